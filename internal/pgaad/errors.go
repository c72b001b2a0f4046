package pgaad

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// Error is every failure that pgaad reports: what was attempted (Op), on
// which object, what kind of failure it is (one of the Err* values, test
// with errors.Is), the cause (errors.As finds the server's *pgconn.PgError
// in it) and what to do next. Its text never carries a secret.
//
// Advice says what to do in database and Azure terms (SQL, the Azure CLI,
// server parameters). Fact says the same situation as data, so that a
// front end (the provider) can word it in its own terms instead: its
// resources, attributes and commands, of which pgaad knows nothing.
type Error struct {
	Op     string // what was attempted, e.g. "creating principal"
	Object Object // what it was attempted on
	Kind   error  // one of the Err* values (nil when unknown)
	Err    error  // the cause, e.g. *pgconn.PgError (may be nil)
	Advice string // what to do next, when we know
	Fact   Fact   // the situation the advice is about (zero: none)
}

// Fact is the situation behind an Error's Advice, as data: Topic says which
// one; the other fields are set where the topic needs them (each Topic
// value says which).
type Fact struct {
	Topic Topic
	// Role is the role the situation is about: the missing role, the role
	// that cannot be granted, the principal that cannot be dropped.
	Role string
	// Member is the member of a refused membership.
	Member string
	// Login is the provider's login as a quoted SQL identifier, or a
	// placeholder such as "<your login>" when not known.
	Login string
	// Steps is the SQL part of the advice, with the prose that binds it
	// (e.g. "first make the login a member of the role ...: GRANT ..."),
	// for a front end that words the rest itself.
	Steps string
	// ByObjectID: a principal was created by object id (the lookup by
	// name was skipped), so the advice must not propose giving one.
	ByObjectID bool
	// TenantType is what the tenant says a principal is; AskedType what
	// the creation asked for.
	TenantType, AskedType string
	// ExpiresAt is when a refused token expired, when the token says so
	// (zero: it does not).
	ExpiresAt time.Time
	// TokenObjectID is the object id of the identity a refused token was
	// issued to, when the token or the server's text says ("": unknown);
	// RoleKind is what the role it tried was created for, "user" or
	// "service" (TopicTokenOtherIdentity).
	TokenObjectID, RoleKind string
	// Cloud is the cloud whose audience a refused token is for; Resource
	// is the audience that the servers of the client's cloud take.
	Cloud, Resource string
	// Versions are the versions of an extension that the server has,
	// DefaultVersion the one it installs when none is asked for ("": none);
	// for an update, Installed is the version installed ("" when it could
	// not be read) and UpdateTargets the versions it can be updated to.
	Versions, UpdateTargets   []string
	DefaultVersion, Installed string
}

// Topic names a situation that an Error's Advice is about.
type Topic string

// Topics.
const (
	// TopicLostCommit: the connection was lost during COMMIT and the
	// outcome could not be checked.
	TopicLostCommit Topic = "lost commit"
	// TopicReadReplica: the server is a read replica.
	TopicReadReplica Topic = "read replica"
	// TopicDatabaseMissing: Object.Database does not exist.
	TopicDatabaseMissing Topic = "database missing"
	// TopicNoSlots: the server had no free connection slot within the
	// connect timeout.
	TopicNoSlots Topic = "no connection slots"
	// TopicAIExtensionMissing: azure_ai is not installed in
	// Object.Database.
	TopicAIExtensionMissing Topic = "azure_ai missing"
	// TopicAISettingsManager: the login is not a member of
	// azure_ai_settings_manager.
	TopicAISettingsManager Topic = "not an azure_ai settings manager"
	// TopicRoleMissing: Role does not exist.
	TopicRoleMissing Topic = "role missing"
	// TopicRestrictedRole: Azure refused to make Member a member of its
	// restricted azure_pg_admin.
	TopicRestrictedRole Topic = "restricted role"
	// TopicWriteAllData: Azure never grants pg_write_all_data.
	TopicWriteAllData Topic = "pg_write_all_data"
	// TopicPredefinedRole: Role is a predefined role the login cannot grant.
	TopicPredefinedRole Topic = "predefined role"
	// TopicRoleOwnsObjects: Role cannot be dropped while it owns objects or
	// holds privileges; Login is who can take them over.
	TopicRoleOwnsObjects Topic = "role owns objects"
	// TopicOwnsObjects: Role, being dropped with nothing to hand its
	// objects to, owns the objects that the error lists.
	TopicOwnsObjects Topic = "owned objects need a new owner"
	// TopicReadOnly: the server refused a change because it is read-only
	// (SQLSTATE 25006); nothing was changed. ReadOnlyAdvice says why a
	// server is read-only and what to do.
	TopicReadOnly Topic = "server read-only"
	// TopicOutage: the server answered earlier, then stayed unreachable for
	// the whole outage bound (a failover or restart that lasted too long).
	TopicOutage Topic = "outage"
	// TopicEntraPrincipal: Role is an Entra principal, not a plain role.
	TopicEntraPrincipal Topic = "an Entra principal"
	// TopicNotInTenant, TopicAmbiguousName, TopicValidation: Entra ID did
	// not find, could not single out, or could not validate a principal
	// (ByObjectID says whether it was named by object id).
	TopicNotInTenant   Topic = "not in tenant"
	TopicAmbiguousName Topic = "ambiguous name"
	TopicValidation    Topic = "validation failed"
	// TopicTypeMismatch: the tenant says TenantType, the creation asked
	// for AskedType.
	TopicTypeMismatch Topic = "type mismatch"
	// TopicNotEntraPrincipal: a role without a pgaadauth label.
	TopicNotEntraPrincipal Topic = "not an Entra principal"
	// TopicRelabelRefused: the server refused to rewrite a role's labels.
	TopicRelabelRefused Topic = "relabel refused"
	// TopicNotEntraAdmin: only an Entra admin may create or drop principals.
	TopicNotEntraAdmin Topic = "not an Entra admin"
	// TopicWrongDatabase: the server has no pgaadauth functions.
	TopicWrongDatabase Topic = "no pgaadauth functions"

	// Extensions (Object names the extension).

	// TopicNotAllowListed: Azure's server parameter azure.extensions does
	// not list the extension.
	TopicNotAllowListed Topic = "extension not allow-listed"
	// TopicExtensionVersions: the version asked for cannot be installed or
	// reached; Versions, DefaultVersion, Installed and UpdateTargets say
	// what can.
	TopicExtensionVersions Topic = "extension versions"
	// TopicSchemaMissing: the schema asked for does not exist.
	TopicSchemaMissing Topic = "schema missing"
	// TopicNotRelocatable: the extension lives only in its own schema.
	TopicNotRelocatable Topic = "extension not relocatable"
	// TopicExtensionInUse: other objects depend on the extension, which is
	// never dropped with CASCADE.
	TopicExtensionInUse Topic = "extension in use"

	// Grants.

	// TopicObjectsMissing: objects named for a grant do not exist (the
	// error names them); nothing was changed.
	TopicObjectsMissing Topic = "objects missing"

	// Connecting (Object is the server). TopicNoSlots is one too.

	// TopicCredential: the credential could not produce a token.
	TopicCredential Topic = "no token from the credential"
	// TopicTLSRequired: the server takes only TLS connections, and the
	// client asked for none.
	TopicTLSRequired Topic = "TLS required"
	// TopicNoTLS: the server offers no TLS.
	TopicNoTLS Topic = "no TLS"
	// TopicCertHostName: the server's certificate is not for the host name
	// connected to; no token or password was sent.
	TopicCertHostName Topic = "certificate for another host name"
	// TopicCertAuthority: the server's certificate is signed by an
	// authority not among the trusted roots; nothing was sent.
	TopicCertAuthority Topic = "certificate of an unknown authority"
	// TopicTLSFailed: TLS failed otherwise; nothing was sent.
	TopicTLSFailed Topic = "TLS failed"
	// TopicPasswordRefused: the server refused the user name and password.
	TopicPasswordRefused Topic = "password refused"
	// TopicLoginRefused: the server refused the Entra token, for none of
	// the causes that the token topics below single out.
	TopicLoginRefused Topic = "token refused"
	// TopicTokenFormat: the token sent, given as is, is not a JWT.
	TopicTokenFormat Topic = "token not a JWT"
	// TopicTokenExpired: the token sent has expired (given as is: tokens
	// that a credential fetches are renewed before they expire); ExpiresAt
	// is when.
	TopicTokenExpired Topic = "token expired"
	// TopicTokenOtherIdentity: the server refused the token as another
	// identity's than the one Role was created for (Azure's texts, whatever
	// the SQLSTATE); TokenObjectID is the token's identity when known,
	// RoleKind what Role was created for.
	TopicTokenOtherIdentity Topic = "token of another identity"
	// TopicTokenCloud: the token is for the audience of another cloud,
	// Cloud; the client's cloud takes tokens for Resource.
	TopicTokenCloud Topic = "token for another cloud"
)

// Object names what an operation is about.
type Object struct {
	Type     string // one of the Object* values
	Name     string // the object's name (empty for database-wide objects)
	Database string // the database it lives in, for per-database objects
	Member   string // for a role membership: the role that receives Name
}

// Object types. A server is named host:port/database.
const (
	ObjectRole = "role"
	// ObjectPlainRole is a role that is not an Entra principal.
	ObjectPlainRole  = "plain role"
	ObjectExtension  = "extension"
	ObjectAISettings = "azure_ai settings"
	// ObjectRoleMembership is role Name granted to role Member.
	ObjectRoleMembership = "role membership"
	ObjectServer         = "server"
)

// String is how the object reads in a message: the name Go-quoted (so that
// a newline in a name cannot fake a second message), then its database.
func (o Object) String() string {
	if o.Type == ObjectServer {
		return o.Name
	}
	var parts []string
	if o.Name != "" || o.Type == ObjectRole || o.Type == ObjectPlainRole || o.Type == ObjectExtension || o.Type == ObjectRoleMembership { // named objects, even if the name is empty
		parts = append(parts, fmt.Sprintf("%q", o.Name))
	}
	if o.Type == ObjectRoleMembership {
		parts = append(parts, fmt.Sprintf("to %q", o.Member))
	}
	if o.Database != "" {
		parts = append(parts, fmt.Sprintf("in database %q", o.Database))
	}
	return strings.Join(parts, " ")
}

// Kinds shared by every domain.
var (
	ErrNotFound         = errors.New("does not exist")
	ErrAlreadyExists    = errors.New("already exists")
	ErrPermissionDenied = errors.New("permission denied")
	ErrDatabaseMissing  = errors.New("the database does not exist")
	ErrDependentObjects = errors.New("other objects depend on it")
	ErrConnection       = errors.New("cannot connect to the server")
	// ErrReadReplica: the server is a read replica (pg_is_in_recovery()),
	// where nothing can be changed; the write path (refuseReplica) and the
	// actions (checkWritable) refuse it before any statement runs.
	ErrReadReplica = errors.New("the server is a read replica")
	// ErrReadOnly: the server refused a change with SQLSTATE 25006
	// (read_only_sql_transaction): it is read-only (see ReadOnlyAdvice).
	// Not retried: Azure keeps a full server read-only until storage is
	// added, far longer than any wait within one operation.
	ErrReadOnly = errors.New("the server is read-only")
)

// Kinds of one domain, where the domain really differs.
var (
	// Principals.
	ErrNotEntraPrincipal = errors.New("role is not a Microsoft Entra principal")
	ErrNotInTenant       = errors.New("name not found in the server's Microsoft Entra tenant")
	ErrAmbiguous         = errors.New("name matches more than one object in the Microsoft Entra tenant")
	ErrValidation        = errors.New("the Microsoft Entra validation failed")
	ErrTypeMismatch      = errors.New("the Microsoft Entra object has another type")
	ErrWrongDatabase     = errors.New("the pgaadauth functions are missing")
	ErrRelabelRefused    = errors.New("the server refused to rewrite the role's pgaadauth labels")
	// Roles.
	ErrOwnsObjects    = errors.New("the role owns objects that need a new owner")
	ErrEntraPrincipal = errors.New("role is a Microsoft Entra principal")
	// Extensions.
	ErrExtensionNotAllowed  = errors.New("extension is not allow-listed in azure.extensions")
	ErrExtensionUnavailable = errors.New("the server has no such extension")
	ErrExtensionVersion     = errors.New("no such version or no update path")
	ErrExtensionSchema      = errors.New("schema cannot hold the extension")
	// azure_ai settings.
	ErrExtensionMissing = errors.New("the azure_ai extension is not installed in this database")
)

// Error reads "<op> <object>: <the server's words, or the kind>", then what
// to do next.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if s := e.Object.String(); s != "" {
		b.WriteString(" ")
		b.WriteString(s)
	}
	b.WriteString(": ")
	switch {
	case e.Err != nil:
		b.WriteString(describe(e.Err, !errors.Is(e.Kind, ErrDependentObjects)))
	case e.Kind != nil:
		b.WriteString(e.Kind.Error())
	}
	if e.Advice != "" {
		b.WriteString("\n\n")
		b.WriteString(e.Advice)
	}
	return b.String()
}

// Unwrap lets errors.Is find the kind and errors.As find the server's error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// reason is a cause told in our words (e.g. "connection refused: nothing
// is listening there"); it still unwraps to the original error.
type reason struct {
	what string
	err  error
}

func (r *reason) Error() string { return r.what }
func (r *reason) Unwrap() error { return r.err }

// describe is the server's message as Azure wrote it, with its SQLSTATE,
// DETAIL and (with hint) HINT, so that the user sees Azure's own words. The
// HINT is left out where our advice replaces it (dependent objects: the
// server suggests CASCADE, which the provider never uses).
func describe(err error, hint bool) string {
	var r *reason
	if errors.As(err, &r) {
		return r.what
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	s := fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	if pgErr.Detail != "" {
		s += "\n" + pgErr.Detail
	}
	if hint && pgErr.Hint != "" {
		s += "\nHINT: " + pgErr.Hint
	}
	return s
}

// domainRule lets a domain classify a server error before the common rules:
// it sets e.Kind (and e.Advice) when the domain knows better.
type domainRule func(e *Error, pgErr *pgconn.PgError)

// classify turns any failure of op on obj into an *Error: a failure to
// connect gets the connection advice (see explain), a server error its kind,
// first by the domain's rule, then by the common SQLSTATEs. An *Error passes
// through unchanged.
func (c *Client) classify(op string, obj Object, err error, domain domainRule) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return readOnlyFirst(already, err)
	}
	e := &Error{Op: op, Object: obj, Err: err}
	var lost *lostCommit
	if errors.As(err, &lost) {
		e.Advice = "The connection was lost while the server committed, and the outcome could not be checked afterwards. " +
			"Check whether the change was made."
		e.Fact = Fact{Topic: TopicLostCommit}
		return e
	}
	if errors.Is(err, ErrReadReplica) {
		e.Kind = ErrReadReplica
		e.Advice = "Principals, grants and settings are managed on the primary server and replicated to its read replicas. " +
			"Connect to the primary server instead."
		e.Fact = Fact{Topic: TopicReadReplica}
		return e
	}
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	var credErr *entratoken.CredentialError
	isPg := errors.As(err, &pgErr)
	switch {
	case errors.As(err, &connectErr) && isPg && pgErr.Code == "3D000":
		// Connecting to a database that is not there.
	case errors.As(err, &connectErr) || errors.As(err, &credErr):
		return c.explain(err, obj.Database)
	}
	if !isPg {
		return e
	}
	if domain != nil {
		domain(e, pgErr)
	}
	if e.Kind == nil {
		e.Kind = commonKind(pgErr)
	}
	if e.Advice == "" && errors.Is(e.Kind, ErrReadOnly) {
		e.Advice = ReadOnlyAdvice
		e.Fact = Fact{Topic: TopicReadOnly}
	}
	if e.Advice == "" && errors.Is(e.Kind, ErrDatabaseMissing) {
		e.Advice = databaseMissingAdvice(obj.Database)
		e.Fact = Fact{Topic: TopicDatabaseMissing}
	}
	return e
}

// readOnlyFirst: a change refused because the server is read-only (25006)
// is told as such, whatever the domain made of the failing statement (a
// refused relabel, a grant it could not make): the domain's advice would
// send the user after permissions that are not the problem.
func readOnlyFirst(e *Error, err error) error {
	var pgErr *pgconn.PgError
	if errors.Is(e.Kind, ErrReadOnly) || !errors.As(e.Err, &pgErr) || pgErr.Code != "25006" {
		return err
	}
	return &Error{Op: e.Op, Object: e.Object, Kind: ErrReadOnly, Err: e.Err, Advice: ReadOnlyAdvice, Fact: Fact{Topic: TopicReadOnly}}
}

// commonKind is the kind of the SQLSTATEs every domain shares.
func commonKind(pgErr *pgconn.PgError) error {
	switch pgErr.Code {
	case "3D000": // invalid_catalog_name
		return ErrDatabaseMissing
	case "25006": // read_only_sql_transaction
		return ErrReadOnly
	case "42501": // insufficient_privilege
		return ErrPermissionDenied
	case "42704": // undefined_object
		return ErrNotFound
	case "42710": // duplicate_object
		return ErrAlreadyExists
	case "23505":
		// Two sessions creating the same object at once: the second one's
		// CREATE waits for the first to commit, then hits the catalog's
		// unique index. Another unique violation is not about our object.
		switch pgErr.ConstraintName {
		case "pg_authid_rolname_index", "pg_extension_name_index", "pg_database_datname_index":
			return ErrAlreadyExists
		}
	case "2BP01": // dependent_objects_still_exist
		return ErrDependentObjects
	}
	return nil
}

// ReadOnlyAdvice says why a server refuses changes with SQLSTATE 25006 and
// what to do. The transaction that hit it rolled back: nothing was changed.
//
// Azure switches a flexible server to read-only "when the storage usage
// reaches 95 percent or when the available capacity is less than 5 GiB"
// (Learn, concepts-storage, "Reach Storage Limits"; concepts-limits,
// "Storage"), and storage autogrow exists to prevent it. GUESS: how it does
// so (the server parameter default_transaction_read_only turned on, which
// is what makes PostgreSQL answer 25006 to every role; Learn does not say).
// The emulator's tests make a server read-only that way (ALTER SYSTEM, then
// pg_reload_conf()); a live test on a server filled to 95% would settle it.
// A read replica (hot standby) answers 25006 too, and so may a server that
// Azure holds read-only while it starts, stops or is restored (GUESS, not
// documented).
const ReadOnlyAdvice = "The server is read-only: it refused the change (SQLSTATE 25006), and nothing was changed. Likely reasons:\n" +
	"- its storage is full: Azure switches a flexible server to read-only when 95% of its storage is used or less than 5 GiB are free;\n" +
	"- it is a read replica, which takes no changes;\n" +
	"- it is being started, stopped, restored or scaled, or someone set the server parameter default_transaction_read_only.\n" +
	"What to do: check the server's storage (metric storage_percent) and grow it (az postgres flexible-server update --storage-size), " +
	"or turn on storage autogrow (--storage-auto-grow Enabled), or free space (drop unused logical replication slots, which keep WAL); " +
	"connect to the primary server instead of a replica; then run the change again. It is not retried: a full server stays read-only until its storage grows."

func databaseMissingAdvice(database string) string {
	return fmt.Sprintf("The server has no database %q (names are case-sensitive). Create it first "+
		"(a database of the flexible server, or CREATE DATABASE).", database)
}
