package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
)

// cloud is what the emulators of one Azure cloud and tenant share, as
// Azure's servers do: the CA behind their server certificates (Azure's all
// chain to the same public roots, so one sslrootcert verifies every server),
// the key and issuer that sign tokens (Entra issues one token for
// PostgreSQL that every server of the cloud accepts), and the tenant
// directory (an object added to Entra can be made a principal on any
// server). An emulator started alone has a cloud of its own;
// Options.SameCloudAs puts a new emulator in the cloud of a running one.
type cloud struct {
	caCert     *x509.Certificate
	caKey      *ecdsa.PrivateKey
	tokenKey   []byte // signs issued tokens
	tokenKeyID string
	tenantID   string

	mu      sync.Mutex
	objects []Object
	// running are the members whose server is up: their directories get
	// each new object at once, the others when they come up (join).
	running map[*Emulator]bool
}

// newCloud makes a cloud with a new CA and token key, whose directory holds
// the tenant's objects (missing ids generated, as AddObject does).
func newCloud(t Tenant) (*cloud, error) {
	caCert, caKey, err := newCA()
	if err != nil {
		return nil, err
	}
	c := &cloud{
		caCert: caCert, caKey: caKey, tenantID: t.TenantID,
		tokenKey: []byte(randomString(43)), tokenKeyID: randomString(12),
		running: map[*Emulator]bool{},
	}
	for _, o := range t.Objects {
		if o, err = normalizeObject(o); err != nil {
			return nil, err
		}
		c.objects = append(c.objects, o)
	}
	return c, nil
}

// object is the directory's first object with the name.
func (c *cloud) object(name string) (Object, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.objects {
		if o.Name == name {
			return o, true
		}
	}
	return Object{}, false
}

// join makes e a running member: its directory receives every object of
// the cloud it does not have yet (all of them on a new server; those added
// while it was down after Up), and from now on each new one.
func (e *Emulator) join(ctx context.Context) error {
	c := e.cloud
	c.mu.Lock()
	c.running[e] = true
	objects := slices.Clone(c.objects)
	c.mu.Unlock()
	// One round trip: a directory of a few hundred objects (tests add them)
	// does not slow Up down.
	batch := &pgx.Batch{}
	for _, o := range objects {
		batch.Queue(insertObjectSQL+" ON CONFLICT (object_id) DO NOTHING", o.insertArgs()...)
	}
	if err := e.super.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("copying the tenant's directory: %w", err)
	}
	return nil
}

// leave stops sending e new objects (its server is going down).
func (e *Emulator) leave() {
	if e.cloud == nil {
		return
	}
	e.cloud.mu.Lock()
	defer e.cloud.mu.Unlock()
	delete(e.cloud.running, e)
}

// add puts a new object into the directory: into e's server first (an
// error there adds nothing, e.g. an object id taken), then into every
// other running member's.
func (c *cloud) add(ctx context.Context, e *Emulator, o Object) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := e.insertObject(ctx, o, false); err != nil {
		return err
	}
	c.objects = append(c.objects, o)
	for m := range c.running {
		if m == e {
			continue
		}
		if err := m.insertObject(ctx, o, true); err != nil {
			return fmt.Errorf("adding %q to the directory of the emulator on port %d (same cloud): %w", o.Name, m.port, err)
		}
	}
	return nil
}

const insertObjectSQL = `INSERT INTO azure_emulator.directory (object_id, object_type, kind, name, client_id, fail_validation)
	VALUES ($1, $2, $3, $4, $5, $6)`

func (o Object) insertArgs() []any {
	var clientID any
	if o.ClientID != "" {
		clientID = o.ClientID
	}
	return []any{o.ObjectID, o.ObjectType(), o.Kind, o.Name, clientID, o.FailValidation}
}

// insertObject writes an object into this server's copy of the directory;
// with ignoreTaken, an object id already there is left as it is.
func (e *Emulator) insertObject(ctx context.Context, o Object, ignoreTaken bool) error {
	sql := insertObjectSQL
	if ignoreTaken {
		sql += " ON CONFLICT (object_id) DO NOTHING"
	}
	if _, err := e.super.Exec(ctx, sql, o.insertArgs()...); err != nil {
		return fmt.Errorf("adding %q to the tenant: %w", o.Name, err)
	}
	return nil
}
