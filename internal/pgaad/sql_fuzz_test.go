package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Fuzz targets for everything in this package that builds SQL text or reads
// text from the server. Their seeds (f.Add and testdata/fuzz) run as
// ordinary tests in `make test`; `go test -fuzz=FuzzX ./internal/pgaad`
// explores further.

// classifyCreate and classifyDrop classify as CreatePrincipal and
// DropPrincipal do.
func classifyCreate(name string, err error) error {
	return (&Client{}).classify("creating principal", roleObject(name), err, principalRule)
}

func classifyDrop(name string, err error) error {
	return (&Client{}).classify("dropping principal", roleObject(name), err, principalRule)
}

// hostileSeeds are names that have broken SQL builders before.
var hostileSeeds = []string{
	"", "alice@contoso.com", "O'Brien's Team", `x"; DROP ROLE admin; --`, `""`, `"`, `\`, `\"`,
	"$$", "$q$ x $q$", "a;b", "tab\tnew\nline", "josé 東京 🚀", "a\x00b", "\x00", "\xff\xfe",
	strings.Repeat("é", 32), strings.Repeat(`"`, 63), "U&\"\\0041\"", "E'\\''",
}

// unquoteIdent reads one double-quoted SQL identifier that must span all
// of s, as PostgreSQL's scanner does; ok is false when s is anything else
// (unquoted text, a second token, an unterminated quote).
func unquoteIdent(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), i == len(s)-1 // the closing quote must end s
	}
	return "", false
}

// FuzzDropRoleStatement: the DROP ROLE statement that DropPrincipal sends
// names exactly the role, as one quoted identifier and nothing after it.
// pgx drops NUL bytes while quoting, which would name another role: such
// names must never reach it (DropPrincipal refuses them).
func FuzzDropRoleStatement(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		stmt := dropRoleSQL(name)
		rest, ok := strings.CutPrefix(stmt, "DROP ROLE ")
		if !ok {
			t.Fatalf("%q", stmt)
		}
		got, ok := unquoteIdent(rest)
		if !ok {
			t.Fatalf("DROP ROLE for %q is not one quoted identifier: %q", name, stmt)
		}
		if strings.ContainsRune(name, 0) {
			if got == name {
				t.Fatalf("pgx kept a NUL: %q", stmt)
			}
			if err := checkRoleName("dropping principal", name); err == nil {
				t.Fatalf("a name with NUL is not refused: %q", name)
			}
			return
		}
		if got != name {
			t.Fatalf("DROP ROLE for %q names %q", name, got)
		}
		if err := checkRoleName("dropping principal", name); err != nil {
			t.Fatalf("%q refused: %v", name, err)
		}
	})
}

// FuzzClassifyCreate: whatever the server says, the error names the role
// (Go-quoted, so a newline in a name cannot fake a second message), keeps
// the server's words and SQLSTATE, and maps each known SQLSTATE to its kind.
func FuzzClassifyCreate(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s, "42710", `role "x" already exists`, "", "")
	}
	f.Add("bob@contoso.com", "XX000", "Could not validate AAD user bob@contoso.com because its name is not found in the tenant.", "", "")
	f.Add("Shared", "XX000", "Name Shared matches more than one object", "", "")
	f.Add("n", "0LP01", "An unexpected error occurred while trying to validate user", "", "")
	f.Add("n", "42883", "function pgaadauth_create_principal(unknown, boolean, boolean) does not exist", "", "")
	f.Add("n", "42501", "permission denied to create role", "", "")
	f.Add("n", "23505", `duplicate key value violates unique constraint "pg_authid_rolname_index"`, "Key (rolname)=(n) already exists.", "pg_authid_rolname_index")
	f.Add("n", "23505", "duplicate key", "", "some_other_index")
	f.Add("n", "57P01", "terminating connection due to administrator command", "", "")
	f.Fuzz(func(t *testing.T, name, code, message, detail, constraint string) {
		pgErr := &pgconn.PgError{Code: code, Message: message, Detail: detail, ConstraintName: constraint}
		err := classifyCreate(name, fmt.Errorf("wrapped: %w", pgErr))
		checkPrincipalError(t, err, "creating principal", name, pgErr)
		want := map[string]error{"42710": ErrAlreadyExists, "0LP01": ErrValidation, "42883": ErrWrongDatabase, "42501": ErrPermissionDenied}[code]
		if code == "23505" && constraint == "pg_authid_rolname_index" {
			want = ErrAlreadyExists
		}
		if want != nil && !errors.Is(err, want) {
			t.Fatalf("SQLSTATE %s: %v is not %v", code, err, want)
		}
		if code == "23505" && constraint != "pg_authid_rolname_index" && errors.Is(err, ErrAlreadyExists) {
			t.Fatalf("a unique violation on %q taken for an existing role", constraint)
		}
		// A connection that died is never a kind the user must act on.
		if retryReason(context.Background(), err, nil) != "" && want != nil {
			t.Fatalf("SQLSTATE %s is both %v and a lost connection", code, want)
		}
	})
}

// FuzzClassifyDrop: the advice for a role that owns objects is SQL that a
// user will paste: the role must be one quoted identifier in it.
func FuzzClassifyDrop(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s, "2BP01", `role "x" cannot be dropped because some objects depend on it`, "owner of table t")
	}
	f.Add("n", "42704", `role "n" does not exist`, "")
	f.Add("n", "42501", "permission denied to drop role", "")
	f.Fuzz(func(t *testing.T, name, code, message, detail string) {
		pgErr := &pgconn.PgError{Code: code, Message: message, Detail: detail}
		err := classifyDrop(name, pgErr)
		checkPrincipalError(t, err, "dropping principal", name, pgErr)
		var pe *Error
		errors.As(err, &pe)
		switch code {
		case "42704":
			if !errors.Is(err, ErrNotFound) {
				t.Fatal("42704 is not ErrNotFound")
			}
		case "2BP01":
			if !errors.Is(err, ErrDependentObjects) {
				t.Fatal("2BP01 is not ErrDependentObjects")
			}
			if strings.ContainsRune(name, 0) {
				return // refused before any SQL: see FuzzDropRoleStatement
			}
			for _, verb := range []string{"REASSIGN OWNED BY ", "DROP OWNED BY "} {
				_, after, ok := strings.Cut(pe.Advice, verb)
				if !ok {
					t.Fatalf("advice without %q: %s", verb, pe.Advice)
				}
				ident := pgx.Identifier{name}.Sanitize()
				if !strings.HasPrefix(after, ident) {
					t.Fatalf("advice %q does not quote the role as %s", after, ident)
				}
				if got, ok := unquoteIdent(ident); !ok || got != name {
					t.Fatalf("advice names %q, want %q", got, name)
				}
			}
		}
	})
}

func checkPrincipalError(t *testing.T, err error, op, name string, pgErr *pgconn.PgError) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) || pe.Object.Name != name || pe.Object.Type != ObjectRole || pe.Op != op {
		t.Fatalf("%T %v: not an *Error for role %q", err, err, name)
	}
	var got *pgconn.PgError
	if !errors.As(err, &got) || got != pgErr {
		t.Fatal("the server's error is lost")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, fmt.Sprintf("%s %q: ", op, name)) {
		t.Fatalf("message does not start with the quoted name: %q", msg)
	}
	if !strings.Contains(msg, pgErr.Message) || !strings.Contains(msg, "SQLSTATE "+pgErr.Code) {
		t.Fatalf("message lost the server's words or SQLSTATE: %q", msg)
	}
}
