package emulator_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

func getSetting(t *testing.T, conn *pgx.Conn, key string) *string {
	t.Helper()
	return scalar[*string](t, conn, "SELECT azure_ai.get_setting($1)", key)
}

func TestAzureAI(t *testing.T) {
	e := need(t)
	dbA, dbB := newDatabase(t), newDatabase(t)
	a, b := admin(t, dbA), admin(t, dbB)

	// Azure ships one azure_ai version per major (1.3.1 on 12-17, 2.0.0 on
	// 18), and the emulator that of the major it runs.
	want, others := pgtest.AzureAIVersion(t, e.PGMajor()), pgtest.OtherAzureAIVersions(t, e.PGMajor())

	// Not there until created, per database.
	_, err := a.Exec(testCtx(t), "SELECT azure_ai.version()")
	pgErr(t, err, "3F000", `schema "azure_ai" does not exist`)
	exec(t, a, "CREATE EXTENSION azure_ai")
	if v := scalar[string](t, a, "SELECT azure_ai.version()"); v != want {
		t.Errorf("version() = %q on PostgreSQL %d, want the default %s", v, e.PGMajor(), want)
	}
	_, err = b.Exec(testCtx(t), "SELECT azure_ai.version()")
	pgErr(t, err, "3F000", `schema "azure_ai" does not exist`)

	// No other version, not even one Azure ships on another major, and no
	// update path: other versions fail with PostgreSQL's own errors.
	for _, v := range append([]string{"1.0.0", "1.1.0", "1.3.0"}, others...) {
		_, err = b.Exec(testCtx(t), "CREATE EXTENSION azure_ai VERSION "+literal(v))
		pgErr(t, err, "22023", fmt.Sprintf(`extension "azure_ai" has no installation script nor update path for version "%s"`, v))
	}
	exec(t, b, "CREATE EXTENSION azure_ai VERSION "+literal(want))
	for _, v := range append([]string{"1.4.0"}, others...) {
		_, err = b.Exec(testCtx(t), "ALTER EXTENSION azure_ai UPDATE TO "+literal(v))
		pgErr(t, err, "22023", fmt.Sprintf(`extension "azure_ai" has no update path from version "%s" to version "%s"`, want, v))
	}
	exec(t, b, "ALTER EXTENSION azure_ai UPDATE") // already at the default: a notice only
	if v := scalar[string](t, b, "SELECT extversion FROM pg_extension WHERE extname = 'azure_ai'"); v != want {
		t.Errorf("extversion %q, want %s", v, want)
	}
	if v := scalar[string](t, b, "SELECT string_agg(version, ',' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'azure_ai'"); v != want {
		t.Errorf("available versions %q, want %s only", v, want)
	}
	if v := scalar[string](t, b, "SELECT default_version FROM pg_available_extensions WHERE name = 'azure_ai'"); v != want {
		t.Errorf("default version %q, want %s", v, want)
	}

	t.Run("set and get per database", func(t *testing.T) {
		endpoint := `https://a.openai.azure.com/?x='1';"y"--ñ`
		exec(t, a, "SELECT azure_ai.set_setting('azure_openai.endpoint', $1)", endpoint)
		if got := getSetting(t, a, "azure_openai.endpoint"); got == nil || *got != endpoint {
			t.Errorf("get_setting in A = %v, want %q", got, endpoint)
		}
		if got := getSetting(t, b, "azure_openai.endpoint"); got != nil {
			t.Errorf("get_setting in B = %q, want NULL (settings are per database)", *got)
		}
		// Overwrite.
		exec(t, a, "SELECT azure_ai.set_setting('azure_openai.endpoint', 'https://a2.openai.azure.com/')")
		if got := getSetting(t, a, "azure_openai.endpoint"); got == nil || *got != "https://a2.openai.azure.com/" {
			t.Errorf("after overwrite get_setting = %v", got)
		}
		exec(t, b, "SELECT azure_ai.set_setting('azure_openai.endpoint', 'https://b.openai.azure.com/')")
		if got := getSetting(t, a, "azure_openai.endpoint"); got == nil || *got != "https://a2.openai.azure.com/" {
			t.Errorf("B's setting changed A's: %v", got)
		}
		// NULL removes.
		exec(t, a, "SELECT azure_ai.set_setting('azure_openai.endpoint', NULL)")
		if got := getSetting(t, a, "azure_openai.endpoint"); got != nil {
			t.Errorf("after set_setting(key, NULL) get_setting = %q, want NULL", *got)
		}
		if got := getSetting(t, b, "azure_openai.endpoint"); got == nil || *got != "https://b.openai.azure.com/" {
			t.Errorf("removing in A removed in B: %v", got)
		}
		// Removing an unset key is fine.
		exec(t, a, "SELECT azure_ai.set_setting('azure_ml.endpoint_key', NULL)")
	})

	t.Run("every documented key", func(t *testing.T) {
		for _, key := range []string{
			"azure_openai.endpoint", "azure_openai.subscription_key",
			"azure_cognitive.endpoint", "azure_cognitive.subscription_key", "azure_cognitive.region",
			"azure_cognitive.translator_resource_id",
			"azure_ml.scoring_endpoint", "azure_ml.endpoint_key",
			"azure_ml.serverless_ranking_endpoint", "azure_ml.serverless_ranking_endpoint_key",
		} {
			exec(t, a, "SELECT azure_ai.set_setting($1, $2)", key, "v-"+key)
			if got := getSetting(t, a, key); got == nil || *got != "v-"+key {
				t.Errorf("%s = %v", key, got)
			}
		}
		for _, key := range []string{"azure_openai.auth_type", "azure_cognitive.auth_type", "azure_ml.auth_type"} {
			for _, v := range []string{"managed-identity", "subscription-key"} {
				exec(t, a, "SELECT azure_ai.set_setting($1, $2)", key, v)
				if got := getSetting(t, a, key); got == nil || *got != v {
					t.Errorf("%s = %v, want %s", key, got, v)
				}
			}
		}
	})

	t.Run("unknown key and bad auth_type", func(t *testing.T) {
		for _, key := range []string{"azure_openai.nope", "AZURE_OPENAI.ENDPOINT", "", "azure_openai.endpoint'; DROP TABLE x --", `azure_ml."é"`} {
			_, err := a.Exec(testCtx(t), "SELECT azure_ai.set_setting($1, 'v')", key)
			pgErr(t, err, "22023", `Invalid setting key "`+key+`"`)
			_, err = a.Exec(testCtx(t), "SELECT azure_ai.get_setting($1)", key)
			pgErr(t, err, "22023", `Invalid setting key "`+key+`"`)
		}
		exec(t, a, "SELECT azure_ai.set_setting('azure_openai.auth_type', 'subscription-key')")
		for _, v := range []string{"password", "Managed-Identity", "managed_identity", "", `"subscription-key"`} {
			_, err := a.Exec(testCtx(t), "SELECT azure_ai.set_setting('azure_openai.auth_type', $1)", v)
			pgErr(t, err, "22023", `Invalid value "`+v+`" for setting "azure_openai.auth_type"`)
		}
		if got := getSetting(t, a, "azure_openai.auth_type"); got == nil || *got != "subscription-key" {
			t.Errorf("a rejected value changed the setting: %v", got)
		}
	})

	t.Run("only settings managers", func(t *testing.T) {
		login, pw := newLogin(t)
		conn := mustOpen(t, e.URL(login, pw, dbA))
		// The version is public; settings are not.
		if v := scalar[string](t, conn, "SELECT azure_ai.version()"); v != want {
			t.Errorf("version() as a plain login = %q, want %s", v, want)
		}
		_, err := conn.Exec(testCtx(t), "SELECT azure_ai.set_setting('azure_openai.endpoint', 'https://evil/')")
		pgErr(t, err, "42501", "permission denied for function set_setting")
		_, err = conn.Exec(testCtx(t), "SELECT azure_ai.get_setting('azure_openai.subscription_key')")
		pgErr(t, err, "42501", "permission denied for function get_setting")
		_, err = conn.Exec(testCtx(t), "SELECT * FROM azure_ai.settings_store")
		pgErr(t, err, "42501", "permission denied for table settings_store")

		// Granting azure_ai_settings_manager is enough.
		exec(t, super(t, "postgres"), "GRANT azure_ai_settings_manager TO "+pgx.Identifier{login}.Sanitize())
		conn = mustOpen(t, e.URL(login, pw, dbA))
		exec(t, conn, "SELECT azure_ai.set_setting('azure_cognitive.region', 'westeurope')")
		if got := getSetting(t, a, "azure_cognitive.region"); got == nil || *got != "westeurope" {
			t.Errorf("a manager's setting is not visible to the admin: %v", got)
		}
	})
}

// CREATE and DROP EXTENSION by the Entra admin are limited to azure.extensions.
func TestExtensionAllowList(t *testing.T) {
	db := newDatabase(t)
	conn := admin(t, db)
	if got := scalar[string](t, conn, "SHOW azure.extensions"); got != "azure_ai,hstore,pg_trgm,citext,uuid-ossp,pgcrypto" {
		t.Errorf("azure.extensions = %q", got)
	}
	for _, ext := range []string{"hstore", "citext", "uuid-ossp", "pgcrypto", "pg_trgm"} {
		exec(t, conn, "CREATE EXTENSION "+pgx.Identifier{ext}.Sanitize())
	}
	// btree_gin is trusted by PostgreSQL, so only the allow-list refuses it.
	for _, ext := range []string{"btree_gin", "postgres_fdw", "no_such_extension"} {
		_, err := conn.Exec(testCtx(t), "CREATE EXTENSION "+pgx.Identifier{ext}.Sanitize())
		pe := serverError(t, err, "0A000", fmt.Sprintf(`extension %q is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL`, ext))
		if pe.Hint != "to see the list of allowed extensions, please run: SHOW azure.extensions;" {
			t.Errorf("hint %q", pe.Hint)
		}
	}
	if n := scalar[int](t, conn, "SELECT count(*) FROM pg_extension WHERE extname = 'btree_gin'"); n != 0 {
		t.Error("btree_gin was created")
	}
	// The superuser is not limited.
	exec(t, super(t, db), "CREATE EXTENSION btree_gin")

	// The allow-list applies to DROP EXTENSION too (*Errors with extensions*):
	// the admin cannot drop what the superuser created, and it stays.
	for _, sql := range []string{"DROP EXTENSION btree_gin", "DROP EXTENSION IF EXISTS btree_gin", "DROP EXTENSION citext, btree_gin"} {
		_, err := conn.Exec(testCtx(t), sql)
		pgErr(t, err, "0A000", `extension "btree_gin" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL`)
	}
	if n := scalar[int](t, conn, "SELECT count(*) FROM pg_extension WHERE extname IN ('btree_gin', 'citext')"); n != 2 {
		t.Errorf("%d of btree_gin and citext left after refused drops, want 2", n)
	}
	exec(t, conn, "DROP EXTENSION citext")
}

// Only members of azure_pg_admin run CREATE EXTENSION and DROP EXTENSION,
// with the texts of *Errors with extensions*, even for trusted, allow-listed
// extensions in a database they own.
func TestExtensionsOnlyForAzurePGAdmin(t *testing.T) {
	e := need(t)
	db := newDatabase(t)
	plain, pw := newLogin(t)
	su := super(t, db)
	exec(t, su, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" OWNER TO "+pgx.Identifier{plain}.Sanitize())
	conn := mustOpen(t, e.URL(plain, pw, db))
	_, err := conn.Exec(testCtx(t), "CREATE EXTENSION hstore")
	pgErr(t, err, "42501", `Only members of "azure_pg_admin" are allowed to use CREATE EXTENSION`)
	exec(t, su, "CREATE EXTENSION hstore")
	for _, sql := range []string{"DROP EXTENSION hstore", "DROP EXTENSION IF EXISTS no_such_extension"} {
		_, err = conn.Exec(testCtx(t), sql)
		pgErr(t, err, "42501", `Only members of "azure_pg_admin" are allowed to use DROP EXTENSION`)
	}
	if n := scalar[int](t, su, "SELECT count(*) FROM pg_extension WHERE extname = 'hstore'"); n != 1 {
		t.Error("hstore was dropped")
	}
	// The password server admin is a member: it may (given CREATE on the database).
	exec(t, su, "DROP EXTENSION hstore")
	exec(t, su, "GRANT CREATE ON DATABASE "+pgx.Identifier{db}.Sanitize()+" TO "+emulator.ServerAdmin)
	pa := mustOpen(t, e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), db))
	exec(t, pa, "CREATE EXTENSION hstore")
	exec(t, pa, "DROP EXTENSION hstore")
}

// The postgres database belongs to azure_pg_admin, so an Entra admin may
// create allow-listed extensions there too.
func TestAdminOwnsPostgresDatabase(t *testing.T) {
	conn := admin(t, "postgres")
	if owner := scalar[string](t, conn, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = 'postgres'"); owner != "azure_pg_admin" {
		t.Fatalf("postgres is owned by %q", owner)
	}
	exec(t, conn, "CREATE EXTENSION citext")
	t.Cleanup(func() { exec(t, super(t, "postgres"), "DROP EXTENSION IF EXISTS citext") })
}
