package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Extension is an extension installed in one database.
type Extension struct {
	Database string
	Name     string
	Schema   string
	Version  string
}

// NewExtension says what to create; empty Schema and Version leave the
// choice to the server (the extension's fixed schema or the first schema of
// the search path, and the default version of its control file).
type NewExtension struct {
	Database string
	Name     string
	Schema   string
	Version  string
}

func extensionObject(database, name string) Object {
	return Object{Type: ObjectExtension, Name: name, Database: database}
}

// extensionQuery reads the extensions of a database (one with
// " WHERE e.extname = $1"); a single read and the snapshot both use it.
const extensionQuery = `
SELECT e.extname, n.nspname, e.extversion
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`

// Extension reads one extension: ErrNotFound when it is not
// installed, ErrDatabaseMissing when the database does not exist.
//
// Reads are answered from the process's snapshot of the database's
// extensions while it is valid (snapshot.go).
func (c *Client) Extension(ctx context.Context, database, name string) (Extension, error) {
	const op = "reading extension"
	if database != "" {
		all, ok := cached(ctx, c, "extensions/"+database, database, "reading every extension",
			func(ctx context.Context, q querier) (map[string]Extension, error) {
				return allExtensions(ctx, q, database)
			})
		if ok {
			x, found := all[name]
			if !found {
				return Extension{}, c.extensionError(op, database, name, extensionNotFound(database, name))
			}
			return x, nil
		}
	}
	return c.extensionDirect(ctx, database, name)
}

// extensionDirect reads one extension from the server, never from a snapshot.
func (c *Client) extensionDirect(ctx context.Context, database, name string) (Extension, error) {
	const op = "reading extension"
	x, err := read(ctx, c, database, op, func(q querier) (Extension, error) { return readExtension(ctx, q, database, name) })
	return x, c.extensionError(op, database, name, err)
}

func readExtension(ctx context.Context, q querier, database, name string) (Extension, error) {
	x := Extension{Database: database}
	err := q.QueryRow(ctx, extensionQuery+" WHERE e.extname = $1", name).Scan(&x.Name, &x.Schema, &x.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return Extension{}, extensionNotFound(database, name)
	}
	return x, err
}

func extensionNotFound(database, name string) error {
	return &Error{Op: "reading extension", Object: extensionObject(database, name), Kind: ErrNotFound,
		Err: errors.New("extension is not installed")}
}

// allExtensions reads every extension of the database, as readExtension reads one.
func allExtensions(ctx context.Context, q querier, database string) (map[string]Extension, error) {
	rows, err := q.Query(ctx, extensionQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Extension{}
	for rows.Next() {
		x := Extension{Database: database}
		if err := rows.Scan(&x.Name, &x.Schema, &x.Version); err != nil {
			return nil, err
		}
		out[x.Name] = x
	}
	return out, rows.Err()
}

// CreateExtension runs CREATE EXTENSION (never CASCADE) and reads the result
// back in the same transaction. When the connection died during COMMIT, the
// extension is looked up: if it is there as asked, the creation succeeded
// (reporting a failure would leave an extension that Terraform does not know
// about and cannot create).
func (c *Client) CreateExtension(ctx context.Context, nx NewExtension) (Extension, error) {
	const op = "creating extension"
	// Utility statements take no parameters. VERSION accepts an identifier
	// as well as a literal, so every part is a quoted identifier.
	sql := "CREATE EXTENSION " + pgx.Identifier{nx.Name}.Sanitize()
	if nx.Schema != "" {
		sql += " SCHEMA " + pgx.Identifier{nx.Schema}.Sanitize()
	}
	if nx.Version != "" {
		sql += " VERSION " + pgx.Identifier{nx.Version}.Sanitize()
	}
	x, err := write(ctx, c, nx.Database, op, func(tx pgx.Tx) (Extension, error) {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return Extension{}, err
		}
		return readExtension(ctx, tx, nx.Database, nx.Name)
	}, func(ctx context.Context) (Extension, bool, error) {
		got, err := c.extensionDirect(ctx, nx.Database, nx.Name)
		switch {
		case errors.Is(err, ErrNotFound):
			return Extension{}, false, nil
		case err != nil:
			return Extension{}, false, err
		}
		return got, (nx.Schema == "" || got.Schema == nx.Schema) && (nx.Version == "" || got.Version == nx.Version), nil
	})
	return x, c.extensionError(op, nx.Database, nx.Name, c.withVersions(ctx, nx.Database, nx.Name, false, err))
}

// UpdateExtension runs ALTER EXTENSION ... UPDATE TO version and reads the
// result back; updating to the installed version changes nothing, so a
// second attempt is safe whatever the first did.
func (c *Client) UpdateExtension(ctx context.Context, database, name, version string) (Extension, error) {
	const op = "updating extension"
	x, err := write(ctx, c, database, op, func(tx pgx.Tx) (Extension, error) {
		if _, err := readExtension(ctx, tx, database, name); err != nil {
			return Extension{}, err
		}
		sql := "ALTER EXTENSION " + pgx.Identifier{name}.Sanitize() + " UPDATE TO " + pgx.Identifier{version}.Sanitize()
		if _, err := tx.Exec(ctx, sql); err != nil {
			return Extension{}, err
		}
		return readExtension(ctx, tx, database, name)
	}, nil)
	return x, c.extensionError(op, database, name, c.withVersions(ctx, database, name, true, err))
}

// DropExtension runs DROP EXTENSION without CASCADE: objects that depend on
// the extension (a column of its type, say) are the user's data, and the
// drop fails with ErrDependentObjects instead. An extension or a
// database that is already gone is not an error.
func (c *Client) DropExtension(ctx context.Context, database, name string) error {
	const op = "dropping extension"
	// IF EXISTS: safe to run again when the connection died under it.
	_, err := write(ctx, c, database, op, func(tx pgx.Tx) (pgconn.CommandTag, error) {
		return tx.Exec(ctx, "DROP EXTENSION IF EXISTS "+pgx.Identifier{name}.Sanitize())
	}, nil)
	err = c.extensionError(op, database, name, err)
	if errors.Is(err, ErrDatabaseMissing) {
		return nil
	}
	return err
}

// versionsError is a version failure with the versions the server offers.
type versionsError struct {
	err  error
	fact Fact // TopicExtensionVersions
}

func (e *versionsError) Error() string { return e.err.Error() }
func (e *versionsError) Unwrap() error { return e.err }

// withVersions adds, to a failure about a version, the versions this server
// has for the extension and (for an update) where the installed one can
// go. Best effort: if the catalog cannot be read the error stays as it was.
func (c *Client) withVersions(ctx context.Context, database, name string, update bool, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || !isVersionFailure(pgErr) {
		return err
	}
	fact, rerr := read(ctx, c, database, "reading extension versions", func(q querier) (Fact, error) {
		return versionFacts(ctx, q, name, update)
	})
	if rerr != nil {
		return err
	}
	return &versionsError{err: err, fact: fact}
}

// versionFacts reads the versions of extension name that the server has
// and, for an update, the installed one and where it can go
// (TopicExtensionVersions).
func versionFacts(ctx context.Context, q querier, name string, update bool) (Fact, error) {
	f := Fact{Topic: TopicExtensionVersions}
	var def *string
	if err := q.QueryRow(ctx, `
		SELECT coalesce(array_agg(v.version::text ORDER BY v.version), '{}'),
		       (SELECT a.default_version FROM pg_available_extensions a WHERE a.name = $1)
		  FROM pg_available_extension_versions v WHERE v.name = $1`, name).Scan(&f.Versions, &def); err != nil {
		return Fact{}, err
	}
	if def != nil {
		f.DefaultVersion = *def
	}
	if !update {
		return f, nil
	}
	if err := q.QueryRow(ctx, `
		SELECT e.extversion, coalesce((SELECT array_agg(p.target::text ORDER BY p.target)
		                                 FROM pg_extension_update_paths($1) p
		                                WHERE p.source = e.extversion AND p.path IS NOT NULL), '{}')
		  FROM pg_extension e WHERE e.extname = $1`, name).Scan(&f.Installed, &f.UpdateTargets); err != nil {
		return Fact{Topic: TopicExtensionVersions, Versions: f.Versions, DefaultVersion: f.DefaultVersion}, nil // the extension is gone: the versions still help
	}
	return f, nil
}

// versionAdvice says which versions of extension name there are, and
// where the installed one can go (f is TopicExtensionVersions).
func versionAdvice(name string, f Fact) string {
	advice := fmt.Sprintf("Versions of %q on this server: %s", name, strings.Join(f.Versions, ", "))
	if f.DefaultVersion != "" {
		advice += fmt.Sprintf(" (default %s, installed when no VERSION is given)", f.DefaultVersion)
	}
	advice += "."
	switch {
	case f.Installed == "":
	case len(f.UpdateTargets) == 0:
		advice += fmt.Sprintf(" The installed version %s has no update path to any other version "+
			"(PostgreSQL cannot downgrade an extension; to go back, drop it and create it at the version wanted).", f.Installed)
	default:
		advice += fmt.Sprintf(" The installed version %s can be updated to: %s.", f.Installed, strings.Join(f.UpdateTargets, ", "))
	}
	return advice
}

func isVersionFailure(pgErr *pgconn.PgError) bool {
	msg := strings.ToLower(pgErr.Message)
	return strings.Contains(msg, "update path") || strings.Contains(msg, "installation script") ||
		(pgErr.Code == "22023" && strings.Contains(msg, "version"))
}

// extensionError classifies a failure of op on one extension.
func (c *Client) extensionError(op, database, name string, err error) error {
	return c.classify(op, extensionObject(database, name), err, extensionRule)
}

// extensionRule is what extensions add to the common classification.
func extensionRule(e *Error, pgErr *pgconn.PgError) {
	database, name := e.Object.Database, e.Object.Name
	var ve *versionsError
	if errors.As(e.Err, &ve) {
		e.Err = ve.err
	}
	msg := strings.ToLower(pgErr.Message)
	switch {
	case strings.Contains(msg, "allow-listed") || strings.Contains(msg, "allowlisted") || strings.Contains(msg, "azure.extensions") ||
		strings.Contains(strings.ToLower(pgErr.Hint), "azure.extensions"):
		e.Kind = ErrExtensionNotAllowed
		e.Advice, e.Fact = notAllowListedAdvice(name), Fact{Topic: TopicNotAllowListed}
	case ve != nil || isVersionFailure(pgErr):
		e.Kind = ErrExtensionVersion
		if ve != nil {
			e.Advice, e.Fact = versionAdvice(name, ve.fact), ve.fact
		}
	case pgErr.Code == "58P01" || strings.Contains(msg, "control file"):
		e.Kind = ErrExtensionUnavailable
		e.Advice = "The server has no extension with this name (names are case-sensitive). " +
			"SELECT name, default_version FROM pg_available_extensions lists the ones it has."
	case pgErr.Code == "3F000":
		e.Kind = ErrExtensionSchema
		e.Advice = "Create the schema first (it must exist in this database), or create the extension without a SCHEMA clause."
		e.Fact = Fact{Topic: TopicSchemaMissing}
	case strings.Contains(msg, "must be installed in schema"):
		e.Kind = ErrExtensionSchema
		e.Advice = "This extension is not relocatable and always lives in the schema named above: create it without a SCHEMA clause or with that schema."
		e.Fact = Fact{Topic: TopicNotRelocatable}
	case pgErr.Code == "2BP01":
		e.Kind = ErrDependentObjects
		e.Advice = "Objects listed above (e.g. columns of a type the extension defines) depend on the extension. " +
			"It is never dropped with CASCADE, since that would also drop them and their data. " +
			"Drop or change those objects first, then drop the extension again."
		e.Fact = Fact{Topic: TopicExtensionInUse}
	case pgErr.Code == "42501" && strings.Contains(msg, "must be owner"):
		e.Kind = ErrPermissionDenied
		e.Advice = fmt.Sprintf("Only the extension's owner (or a member of the owning role) may update or drop it, and this login "+
			"is neither: someone else created it. In database %q, SELECT extowner::regrole FROM pg_extension WHERE extname = '%s' "+
			"shows the owner. Log in as that role, or have it make this login a member (GRANT <owner> TO <login>).",
			database, strings.ReplaceAll(name, "'", "''"))
	case pgErr.Code == "42501":
		e.Kind = ErrPermissionDenied
		e.Advice = fmt.Sprintf("The login needs the CREATE privilege on database %q to create an extension or update it. "+
			"Log in as the database's owner (an Entra admin who created the database owns it), or have the owner run: "+
			"GRANT CREATE ON DATABASE %s TO <login>;",
			database, pgx.Identifier{database}.Sanitize())
	}
}

// notAllowListedAdvice says how to allow an extension on Azure: the server
// parameter azure.extensions is an ARM setting of the flexible server.
func notAllowListedAdvice(name string) string {
	return fmt.Sprintf("Azure lets azure_pg_admin members create only the extensions listed in the server parameter "+
		"azure.extensions (SHOW azure.extensions; shows the list). Add %q to that list, as %s (comma-separated: keep the extensions already allowed). "+
		"It is an ARM setting of the flexible server, not changed by SQL; with the Azure CLI: "+
		"az postgres flexible-server parameter set --resource-group <rg> --server-name <server> "+
		"--name azure.extensions --value <comma-separated list>. "+
		"Some extensions must also be listed in shared_preload_libraries, which takes effect after a server restart.", name, strings.ToUpper(name))
}
