package pgaad

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Kinds of failure of principal operations; test with errors.Is. The
// *PrincipalError that carries them also unwraps to the server's
// *pgconn.PgError, when there is one (errors.As).
var (
	ErrNotFound          = errors.New("role does not exist")
	ErrNotEntraPrincipal = errors.New("role is not a Microsoft Entra principal")
	ErrNotInTenant       = errors.New("name not found in the server's Microsoft Entra tenant")
	ErrAmbiguous         = errors.New("name matches more than one object in the Microsoft Entra tenant")
	ErrValidation        = errors.New("the Microsoft Entra validation failed")
	ErrTypeMismatch      = errors.New("the Microsoft Entra object has another type")
	ErrAlreadyExists     = errors.New("role already exists")
	ErrDependentObjects  = errors.New("role owns objects or holds privileges")
	ErrWrongDatabase     = errors.New("the pgaadauth functions are missing")
	ErrPermissionDenied  = errors.New("permission denied")
)

// PrincipalError is a failed operation on one principal.
type PrincipalError struct {
	Op     string // what was attempted, e.g. "creating principal"
	Name   string // the role name
	Kind   error  // one of the Err* values above (may be nil)
	Err    error  // the underlying error, e.g. *pgconn.PgError (may be nil)
	Advice string // what to do next, when we know
}

func (e *PrincipalError) Error() string {
	return message(fmt.Sprintf("%s %q", e.Op, e.Name), e.Kind, e.Err, describe, e.Advice)
}

// Unwrap lets errors.Is find the kind and errors.As find the server's error.
func (e *PrincipalError) Unwrap() []error { return unwrap(e.Kind, e.Err) }

// message is how every pgaad error reads: "<what, on which object>: <the
// server's words, or the kind>", then what to do next.
func message(subject string, kind, err error, cause func(error) string, advice string) string {
	var b strings.Builder
	b.WriteString(subject)
	b.WriteString(": ")
	switch {
	case err != nil:
		b.WriteString(cause(err))
	case kind != nil:
		b.WriteString(kind.Error())
	}
	if advice != "" {
		b.WriteString("\n\n")
		b.WriteString(advice)
	}
	return b.String()
}

// unwrap lets errors.Is find an error's kind and errors.As the server's error.
func unwrap(kind, err error) []error {
	var errs []error
	if kind != nil {
		errs = append(errs, kind)
	}
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

// describe is the server's message as Azure wrote it, with its SQLSTATE and
// DETAIL, so that the user sees Azure's own words.
func describe(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	s := fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	if pgErr.Detail != "" {
		s += "\n" + pgErr.Detail
	}
	return s
}

// classifyCreate maps a failure of pgaadauth_create_principal* to its kind.
func classifyCreate(name string, err error) error {
	pe := &PrincipalError{Op: "creating principal", Name: name, Err: err}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return pe
	}
	msg := strings.ToLower(pgErr.Message)
	switch {
	case pgErr.Code == "42710",
		// Two sessions creating the same role at once: the second one's
		// CREATE ROLE waits for the first to commit, then hits the index.
		pgErr.Code == "23505" && pgErr.ConstraintName == "pg_authid_rolname_index":
		pe.Kind = ErrAlreadyExists
	case strings.Contains(msg, "not found in the tenant"):
		pe.Kind = ErrNotInTenant
		pe.Advice = "Check the spelling and case: a user is named by UPN, a group, service principal or managed identity by display name. " +
			"For an object that the tenant cannot find by name (e.g. one created in the same apply), set object_id and type."
	case strings.Contains(msg, "more than one"):
		pe.Kind = ErrAmbiguous
		pe.Advice = "Several Entra objects share this name. Set object_id (and type) to say which one is meant."
	case pgErr.Code == "0LP01":
		pe.Kind = ErrValidation
		pe.Advice = "Azure could not validate the name against Microsoft Entra ID. Retry later, or set object_id and type to create the principal without a name lookup."
	case pgErr.Code == "42883":
		pe.Kind = ErrWrongDatabase
		pe.Advice = wrongDatabaseAdvice
	case pgErr.Code == "42501":
		pe.Kind = ErrPermissionDenied
		pe.Advice = notAdminAdvice
	}
	return pe
}

// classifyDrop maps a failure of DROP ROLE to its kind.
func classifyDrop(name string, err error) error {
	pe := &PrincipalError{Op: "dropping principal", Name: name, Err: err}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return pe
	}
	switch pgErr.Code {
	case "42704":
		pe.Kind = ErrNotFound
	case "2BP01":
		pe.Kind = ErrDependentObjects
		role := pgx.Identifier{name}.Sanitize()
		pe.Advice = "The role still owns objects or holds privileges (listed above; \"N objects in database X\" means look there). " +
			"Connected as an admin, run in each database it names (and in postgres):\n" +
			"  REASSIGN OWNED BY " + role + " TO <new owner>;\n" +
			"  DROP OWNED BY " + role + ";\n" +
			"then delete the principal again."
	case "42501":
		pe.Kind = ErrPermissionDenied
		pe.Advice = notAdminAdvice
	}
	return pe
}

const (
	wrongDatabaseAdvice = "The pgaadauth_* functions exist only in the postgres database of an Azure Database for PostgreSQL flexible server " +
		"with Microsoft Entra authentication enabled. Check that host points at such a server and that Entra authentication is enabled on it."
	notAdminAdvice = "Only Microsoft Entra admins of the server (members of azure_pg_admin) may manage principals. " +
		"Log in as an Entra admin (set username to the admin's name)."
)
