// Package emulator runs a local server that behaves like Azure Database for
// PostgreSQL flexible server with Entra authentication and the azure_ai
// extension: a throwaway PostgreSQL cluster (15 by default; PG_MAJOR chooses
// 17 or 18, see PGBinDirFor) with the pgaadauth functions,
// the two security-label providers, a fake Entra tenant, and a fake
// managed-identity token endpoint.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Superuser is the bootstrap superuser's name (Azure's own is not available to customers either).
const Superuser = "azuresu"

// ServerAdmin is the password-based server administrator, a member of
// azure_pg_admin and not a superuser, as on Azure.
const ServerAdmin = "pgadmin"

// Options configure an emulator. The zero value is usable.
type Options struct {
	// PGBinDir holds the server binaries and a pg_config (default: those of the
	// major PG_MAJOR names, ConfiguredPGBinDir; /usr/lib/postgresql/15/bin when unset).
	PGBinDir string
	// Port to listen on, on 127.0.0.1; 0 picks a free one.
	Port int
	// AdminName is the Entra admin's role name (a managed identity in the
	// tenant); it is also the identity the token endpoint serves when no
	// client_id is asked for. Default "ci-pipeline-mi".
	AdminName string
	// TokenLifetime of issued tokens (default one hour).
	TokenLifetime time.Duration
	// Extensions is the azure.extensions allow-list (default azure_ai, vector-free contrib set).
	Extensions []string
	// TenantFile replaces the embedded tenant directory (JSON, see pgext/tenant.json).
	TenantFile string
	// LogStatements logs every statement and connection in the server log (for benchmarks).
	LogStatements bool
	// AllowPlaintext accepts connections without TLS (Azure refuses them).
	AllowPlaintext bool
	// TokenLogin chooses how tokens are checked (default DefaultTokenLogin,
	// or the environment variable AZUREPG_EMULATOR_TOKEN_LOGIN).
	TokenLogin TokenLogin
	// CreateroleSelfGrant is the server's createrole_self_grant on
	// PostgreSQL 16+ (ignored on 15): the options of the extra grant a role's
	// creator receives, "" (PostgreSQL's default, and the emulator's), or
	// e.g. "set, inherit". GUESS: a user reports that Azure sets
	// 'set, inherit' (cyrilgdn/terraform-provider-postgresql#483, not
	// documented); the provider must work either way, and
	// TestLiveAzureRoleRules logs what Azure has. Default: the environment
	// variable AZUREPG_EMULATOR_CREATEROLE_SELF_GRANT.
	CreateroleSelfGrant string
	// SameCloudAs makes this emulator another server of the running
	// emulator's cloud and tenant, as one Azure subscription has many
	// servers: its server certificate (for localhost) is from the same CA,
	// so either's CAFile verifies both with verify-full; it accepts the
	// tokens the other's endpoint issues and the other accepts its own
	// (same signing key, issuer and tenant), as one Entra token logs in on
	// every Azure server of a cloud; and it has the same tenant directory
	// (AddObject on either adds to both) and, unless AdminName says
	// otherwise, the same Entra admin principal. TokenLifetime defaults to
	// the other's. TenantFile must be empty, and both must check tokens with
	// the front door (TokenLoginFrontDoor): with TokenLoginPassword a token
	// logs in only where it was issued.
	SameCloudAs *Emulator
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// DefaultExtensions is the azure.extensions allow-list unless Options say otherwise.
var DefaultExtensions = []string{"azure_ai", "hstore", "pg_trgm", "citext", "uuid-ossp", "pgcrypto"}

// Emulator is a running emulator.
type Emulator struct {
	opts        Options
	dir         string
	dataDir     string
	port        int
	superPass   string
	adminPass   string
	caFile      string
	cmd         *exec.Cmd
	exited      chan struct{}
	super       *pgxpool.Pool
	tokens      *tokenServer
	StartupTime time.Duration
	cloud       *cloud // the CA, token key and tenant directory, maybe shared (SameCloudAs)
	stopOnce    sync.Once
	runAs       *syscall.Credential
	tree        *pgTree
	mode        TokenLogin
	pgPort      int        // PostgreSQL's own port: port, or a private one behind the front door
	front       *frontDoor // nil with TokenLoginPassword
	pgMajor     int        // the running server's, read after the first start
}

// Start creates, starts and seeds a new emulator. Stop it with Stop.
func Start(ctx context.Context, opts Options) (_ *Emulator, err error) {
	began := time.Now()
	if opts.PGBinDir == "" {
		if opts.PGBinDir, err = ConfiguredPGBinDir(); err != nil {
			return nil, err
		}
	}
	if other := opts.SameCloudAs; other != nil {
		if opts.AdminName == "" {
			opts.AdminName = other.opts.AdminName
		}
		if opts.TokenLifetime == 0 {
			opts.TokenLifetime = other.opts.TokenLifetime
		}
	}
	if opts.AdminName == "" {
		opts.AdminName = "ci-pipeline-mi"
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Extensions == nil {
		opts.Extensions = DefaultExtensions
	}
	if opts.CreateroleSelfGrant == "" {
		opts.CreateroleSelfGrant = os.Getenv("AZUREPG_EMULATOR_CREATEROLE_SELF_GRANT")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	mode, err := resolveTokenLogin(opts.TokenLogin)
	if err != nil {
		return nil, err
	}
	c, err := cloudFor(opts, mode)
	if err != nil {
		return nil, err
	}
	// The admin logs in with the token endpoint's default identity: a managed identity or service principal.
	if o, ok := c.object(opts.AdminName); !ok || o.ObjectType() != "service" {
		return nil, fmt.Errorf("the admin %q is not a managed identity or service principal of the tenant", opts.AdminName)
	}
	dir, err := os.MkdirTemp("", "azurepg-emulator-")
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		opts: opts, dir: dir, dataDir: filepath.Join(dir, "data"), cloud: c,
		superPass: randomString(24), adminPass: randomString(24), exited: make(chan struct{}),
		mode: mode,
	}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.runAs, err = unprivilegedUser(); err != nil {
		return nil, err
	}
	if e.port = opts.Port; e.port == 0 {
		if e.port, err = freePort(); err != nil {
			return nil, err
		}
	}
	e.pgPort = e.port
	if mode == TokenLoginFrontDoor {
		if e.pgPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	if e.tree, err = buildPGTree(filepath.Join(dir, "pg"), opts.PGBinDir, opts.Logf); err != nil {
		return nil, err
	}
	if err := e.chownAll(); err != nil {
		return nil, err
	}
	if err := e.initdb(ctx); err != nil {
		return nil, err
	}
	if err := e.configure(); err != nil {
		return nil, err
	}
	if err := e.startServer(ctx); err != nil {
		return nil, err
	}
	if err := e.readPGMajor(ctx); err != nil {
		return nil, err
	}
	if err := e.bootstrap(ctx); err != nil {
		return nil, err
	}
	if e.tokens, err = startTokenServer(e); err != nil {
		return nil, err
	}
	if e.front != nil {
		if err := e.front.listen(); err != nil {
			return nil, fmt.Errorf("front door: %w", err)
		}
	}
	e.StartupTime = time.Since(began)
	opts.Logf("emulator ready on 127.0.0.1:%d in %s", e.port, e.StartupTime.Round(time.Millisecond))
	return e, nil
}

// cloudFor is the cloud of a new emulator: the other's with SameCloudAs,
// else a new one with the tenant of TenantFile (or the embedded one).
func cloudFor(opts Options, mode TokenLogin) (*cloud, error) {
	other := opts.SameCloudAs
	if other == nil {
		tenant, err := loadTenant(opts.TenantFile)
		if err != nil {
			return nil, err
		}
		return newCloud(tenant)
	}
	switch {
	case opts.TenantFile != "":
		return nil, errors.New("SameCloudAs and TenantFile exclude each other: the tenant is the other emulator's")
	case mode != TokenLoginFrontDoor || other.mode != TokenLoginFrontDoor:
		return nil, fmt.Errorf("SameCloudAs needs both emulators to check tokens with the front door (token login %q): "+
			"this one's is %q, the other's %q, and with %q a token logs in only on the emulator that issued it",
			TokenLoginFrontDoor, mode, other.mode, TokenLoginPassword)
	}
	return other.cloud, nil
}

// unprivilegedUser returns the credential to run the server with: PostgreSQL
// refuses to run as root, so root runs it as the "postgres" OS user.
func unprivilegedUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the OS user \"postgres\" (created by the postgresql-15 package) to run the server: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (e *Emulator) chownAll() error {
	if e.runAs == nil {
		return nil
	}
	return filepath.Walk(e.dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(e.runAs.Uid), int(e.runAs.Gid))
	})
}

func (e *Emulator) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "HOME=" + e.dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.runAs, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return cmd
}

func (e *Emulator) initdb(ctx context.Context) error {
	pwfile := filepath.Join(e.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(e.superPass+"\n"), 0o600); err != nil {
		return err
	}
	if e.runAs != nil {
		if err := os.Chown(pwfile, int(e.runAs.Uid), int(e.runAs.Gid)); err != nil {
			return err
		}
	}
	defer os.Remove(pwfile)
	cmd := e.command(ctx, filepath.Join(e.tree.bin, "initdb"), "-D", e.dataDir, "-U", Superuser,
		"--pwfile", pwfile, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (e *Emulator) configure() error {
	caFile, err := writeCertificates(e.dataDir, e.cloud.caCert, e.cloud.caKey)
	if err != nil {
		return err
	}
	e.caFile = caFile
	conf := []string{
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", e.pgPort),
		fmt.Sprintf("unix_socket_directories = '%s'", e.dir),
		"ssl = on",
		"ssl_cert_file = 'server.crt'",
		"ssl_key_file = 'server.key'",
		"shared_preload_libraries = 'pgaadauth_emulator'",
		fmt.Sprintf("azure.extensions = '%s'", strings.Join(e.opts.Extensions, ",")),
		"password_encryption = 'scram-sha-256'",
		"max_connections = 300",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"log_min_messages = warning",
		"log_line_prefix = '%m [%p] %q%u@%d '",
	}
	if e.tree.major >= 16 && e.opts.CreateroleSelfGrant != "" {
		conf = append(conf, "createrole_self_grant = "+quoteLiteral(e.opts.CreateroleSelfGrant))
	}
	if e.opts.LogStatements {
		conf = append(conf, "log_statement = 'all'", "log_connections = on", "log_min_messages = info")
	}
	if e.mode == TokenLoginFrontDoor {
		conf = append(conf, "ssl_ca_file = 'ca.crt'") // to verify the front door's client certificate
	}
	f, err := os.OpenFile(filepath.Join(e.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("\n# azurepg emulator\n" + strings.Join(conf, "\n") + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	hba := []string{
		"local all all scram-sha-256",
		"hostssl all all 127.0.0.1/32 scram-sha-256",
		"hostssl all all ::1/128 scram-sha-256",
	}
	if e.opts.AllowPlaintext {
		hba = append(hba, "hostnossl all all 127.0.0.1/32 scram-sha-256")
	}
	if e.mode == TokenLoginFrontDoor {
		if e.front, err = newFrontDoor(e, e.cloud.caCert, e.cloud.caKey); err != nil {
			return err
		}
		// Only the front door reaches PostgreSQL after checking a token: over
		// TLS from gatewayAddr with a certificate of the emulator's CA, or on
		// the Unix socket in the emulator's private directory.
		hba = append([]string{
			"local all all trust",
			"hostssl all all " + gatewayAddr.String() + "/32 trust clientcert=verify-ca",
			"host all all " + gatewayAddr.String() + "/32 reject",
		}, hba[1:]...)
	}
	if err := os.WriteFile(filepath.Join(e.dataDir, "pg_hba.conf"), []byte(strings.Join(hba, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	return e.chownAll()
}

func (e *Emulator) startServer(ctx context.Context) error {
	// Append: a Restart keeps what the server logged before it.
	logFile, err := os.OpenFile(e.ServerLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The server outlives ctx: it is stopped by Stop, not by the caller's context.
	cmd := e.command(context.Background(), filepath.Join(e.tree.bin, "postgres"), "-D", e.dataDir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	e.cmd = cmd
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(e.exited)
	}()

	// The emulator's own pool goes to PostgreSQL directly, not through the front door.
	cfg, err := pgxpool.ParseConfig(e.directSuperuserURL("postgres"))
	if err != nil {
		return err
	}
	cfg.MaxConns = 4
	if e.front != nil {
		cfg.MaxConns = 8 // it also looks up the labels of every role logging in
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			if err = pool.Ping(ctx); err == nil {
				e.super = pool
				return nil
			}
			pool.Close()
		}
		select {
		case <-e.exited:
			log, _ := os.ReadFile(e.ServerLog())
			return fmt.Errorf("postgres exited during start-up:\n%s", log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 60s: %w", err)
		}
	}
}

func (e *Emulator) bootstrap(ctx context.Context) error {
	script, err := pgext.ReadFile("pgext/bootstrap.sql")
	if err != nil {
		return err
	}
	conn, err := e.super.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().Exec(ctx, string(script)).ReadAll(); err != nil {
		return fmt.Errorf("bootstrap.sql: %w", err)
	}
	if err := e.publicSchemaInTemplate(ctx); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "INSERT INTO azure_emulator.tenant VALUES ($1)", e.cloud.tenantID); err != nil {
		return err
	}
	if err := e.join(ctx); err != nil { // the tenant's directory
		return err
	}
	admin, _ := e.Object(e.opts.AdminName)
	if _, err := conn.Exec(ctx, "SELECT azure_emulator.create_role($1, $2, $3, true, false)",
		admin.Name, admin.ObjectType(), admin.ObjectID); err != nil {
		return fmt.Errorf("creating the Entra admin: %w", err)
	}
	sql := fmt.Sprintf("CREATE ROLE %s LOGIN CREATEROLE CREATEDB IN ROLE azure_pg_admin PASSWORD %s",
		pgx.Identifier{ServerAdmin}.Sanitize(), quoteLiteral(e.adminPass))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("creating the server admin: %w", err)
	}
	return nil
}

// directSuperuserURL is the bootstrap superuser's connection string to
// PostgreSQL's own port, past the front door, for the emulator's own work.
// It names the emulator's own CA (verify-ca: the address is not the
// certificate's name): with sslmode=require, pgx would verify against
// PGSSLROOTCERT when set, which in a test process names the CA of the
// emulator started first, and a later emulator of another cloud could not
// reach its own server.
func (e *Emulator) directSuperuserURL(database string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=verify-ca&sslrootcert=%s",
		escape(Superuser), escape(e.superPass), e.pgPort, escape(database), url.QueryEscape(e.caFile))
}

// publicSchemaInTemplate gives template1's public schema to azure_pg_admin,
// so that every database created later has it so, as on Azure.
func (e *Emulator) publicSchemaInTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, e.directSuperuserURL("template1"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER SCHEMA public OWNER TO azure_pg_admin"); err != nil {
		return fmt.Errorf("template1's public schema: %w", err)
	}
	return nil
}

// Stop stops the server and the token endpoint and removes every file.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		e.leave()
		if e.front != nil {
			e.front.close()
		}
		if e.tokens != nil {
			e.tokens.close()
		}
		if e.super != nil {
			e.super.Close()
		}
		if e.cmd != nil && e.cmd.Process != nil {
			_ = e.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
			select {
			case <-e.exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
				<-e.exited
			}
		}
		_ = os.RemoveAll(e.dir)
	})
}

// Restart stops the server (fast shutdown, as a failover would) and starts it again on the same port.
func (e *Emulator) Restart(ctx context.Context) error {
	if err := e.Down(); err != nil {
		return err
	}
	return e.Up(ctx)
}

// Down stops the server as a failover or planned maintenance begins: a
// fast shutdown (open connections break), and new connections are refused
// until Up. Roles, tokens and the server log survive.
func (e *Emulator) Down() error {
	e.leave()
	if e.front != nil {
		// Refused while PostgreSQL is down, as without a front door; the
		// sessions it carries end with their PostgreSQL processes.
		e.front.closeListener()
	}
	if err := e.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	<-e.exited
	e.exited = make(chan struct{})
	e.super.Close()
	return nil
}

// Up starts the server stopped by Down again, on the same port, with the
// objects added to its cloud's directory meanwhile.
func (e *Emulator) Up(ctx context.Context) error {
	if err := e.startServer(ctx); err != nil {
		return err
	}
	if err := e.join(ctx); err != nil {
		return err
	}
	if e.front != nil {
		return e.front.listen()
	}
	return nil
}

// freePort picks a free port below Linux's ephemeral range (32768-60999), from
// which the kernel gives port 0 and clients' outgoing sockets: a server
// restarted on such a port could find it taken by a client's own socket.
func freePort() (int, error) {
	const low, high = 20000, 32767
	for range 200 {
		port := low + rand.IntN(high-low+1)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // taken: try another
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port on 127.0.0.1 in %d-%d", low, high)
}

// Host is the name of the server: the name in its certificate (it listens
// on 127.0.0.1, which localhost resolves to; 127.0.0.1 is not in the
// certificate).
func (e *Emulator) Host() string { return "localhost" }

// Port is the server's TCP port.
func (e *Emulator) Port() int { return e.port }

// CAFile is the CA certificate that signed the server's certificate (for verify-ca / verify-full).
func (e *Emulator) CAFile() string { return e.caFile }

// ServerLog is the server's log file.
func (e *Emulator) ServerLog() string { return filepath.Join(e.dir, "server.log") }

// AdminName is the Entra admin's role name.
func (e *Emulator) AdminName() string { return e.opts.AdminName }

// AdminClientID is the client id of the Entra admin's managed identity.
func (e *Emulator) AdminClientID() string {
	o, _ := e.Object(e.opts.AdminName)
	return o.ClientID
}

// ServerAdminPassword is the password of ServerAdmin.
func (e *Emulator) ServerAdminPassword() string { return e.adminPass }

// SuperuserURL is a connection string for the bootstrap superuser.
func (e *Emulator) SuperuserURL(database string) string {
	return e.URL(Superuser, e.superPass, database)
}

// URL is a connection string for any role, on verify-full against the
// emulator's CA (as the provider connects by default).
func (e *Emulator) URL(user, password, database string) string {
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=verify-full&sslrootcert=%s",
		escape(user), escape(password), e.Host(), e.port, escape(database), url.QueryEscape(e.caFile))
}

func escape(s string) string {
	return strings.NewReplacer("%", "%25", "@", "%40", ":", "%3A", "/", "%2F", " ", "%20", "?", "%3F", "#", "%23").Replace(s)
}

// TokenEndpoint and IdentityHeader are the values of IDENTITY_ENDPOINT and IDENTITY_HEADER.
func (e *Emulator) TokenEndpoint() string  { return e.tokens.endpoint() }
func (e *Emulator) IdentityHeader() string { return e.tokens.header }

// Env is the environment that points the provider (and azidentity) at this
// emulator, logging in as the Entra admin with the managed identity.
func (e *Emulator) Env() map[string]string {
	return map[string]string{
		"AZUREPG_HOST":        e.Host(),
		"PGPORT":              strconv.Itoa(e.port),
		"AZUREPG_USERNAME":    e.opts.AdminName,
		"AZUREPG_AUTH_METHOD": "managed_identity",
		"IDENTITY_ENDPOINT":   e.TokenEndpoint(),
		"IDENTITY_HEADER":     e.IdentityHeader(),
		"PGSSLROOTCERT":       e.caFile,
	}
}

// Superuser returns the bootstrap superuser's pool on the postgres database.
func (e *Emulator) Superuser() *pgxpool.Pool { return e.super }

// Wait blocks until the server exits (for `make emulator`).
func (e *Emulator) Wait() { <-e.exited }
