package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"
)

// Object is one entry of the fake Entra tenant.
type Object struct {
	// Kind is user, group, service_principal or managed_identity.
	Kind string `json:"kind"`
	// Name is the UPN of a user, the display name of anything else.
	Name     string `json:"name"`
	ObjectID string `json:"object_id"`
	// ClientID is the application (client) id of a service principal or managed identity.
	ClientID string `json:"client_id,omitempty"`
	// FailValidation makes pgaadauth_create_principal fail with 0LP01 for this object.
	FailValidation bool `json:"fail_validation,omitempty"`
}

// ObjectType is the pgaadauth object type of the entry: user, group or service.
func (o Object) ObjectType() string {
	switch o.Kind {
	case "user", "group":
		return o.Kind
	default:
		return "service"
	}
}

// Tenant is the fake Entra directory the emulator validates names against.
type Tenant struct {
	TenantID string   `json:"tenant_id"`
	Objects  []Object `json:"objects"`
}

func loadTenant(file string) (Tenant, error) {
	var data []byte
	var err error
	if file == "" {
		data, err = pgext.ReadFile("pgext/tenant.json")
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return Tenant{}, err
	}
	var t Tenant
	if err := json.Unmarshal(data, &t); err != nil {
		return Tenant{}, fmt.Errorf("parsing tenant file: %w", err)
	}
	return t, nil
}

// AddObject adds an entry to the fake tenant: to this server's directory
// and to every other of the same cloud (Options.SameCloudAs). A missing
// ObjectID (and, for identities and service principals, ClientID) is
// generated.
func (e *Emulator) AddObject(ctx context.Context, o Object) (Object, error) {
	o, err := normalizeObject(o)
	if err != nil {
		return Object{}, err
	}
	if err := e.cloud.add(ctx, e, o); err != nil {
		return Object{}, err
	}
	return o, nil
}

// normalizeObject checks an entry's kind and generates its missing ids.
func normalizeObject(o Object) (Object, error) {
	switch o.Kind {
	case "user", "group", "service_principal", "managed_identity":
	default:
		return Object{}, fmt.Errorf("unknown object kind %q", o.Kind)
	}
	if o.ObjectID == "" {
		o.ObjectID = uuid.NewString()
	}
	if o.ClientID == "" && o.ObjectType() == "service" {
		o.ClientID = uuid.NewString()
	}
	return o, nil
}

// Lookup returns the tenant entry with the given client id (or, with an
// empty client id, the default identity: the Entra admin).
func (e *Emulator) identity(clientID string) (Object, bool) {
	e.cloud.mu.Lock()
	defer e.cloud.mu.Unlock()
	for _, o := range e.cloud.objects {
		if clientID == "" && o.Name == e.opts.AdminName && o.ObjectType() == "service" {
			return o, true
		}
		if clientID != "" && strings.EqualFold(o.ClientID, clientID) { // GUIDs: case does not matter
			return o, true
		}
	}
	return Object{}, false
}

// Object returns the tenant entry with the given name (the first one, for a shared name).
func (e *Emulator) Object(name string) (Object, bool) { return e.cloud.object(name) }

// TenantID is the id of the fake tenant, as written into principals' labels.
func (e *Emulator) TenantID() string { return e.cloud.tenantID }
