package provider_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/stubproviders"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// guideFixture is what TestGuidesApply gives a page besides its blocks:
// what the page says exists before its first step (setup, on the page's own
// emulator, and configs: the HCL a configuration holds before the page's
// blocks join it), the environment its pipeline would have (env: variables,
// federated tokens), and the computed values of the stand-ins of other
// providers' resources that azurepg blocks read (standIn).
type guideFixture struct {
	setup   func(t *testing.T, e *emulator.Emulator)
	configs map[string]string
	env     func(t *testing.T, e *emulator.Emulator) map[string]string
	standIn func(e *emulator.Emulator) stubproviders.StandInValues
}

var guideFixtures = map[string]guideFixture{
	"app-managed-identity-access.md": {
		// The database orders, its schema sales with two tables, all owned by
		// orders_owner, and the application role orders_readers, made by
		// the team that owns the database (here the password admin).
		setup: func(t *testing.T, e *emulator.Emulator) {
			createDatabases(t, e, "orders")
			guideSQL(t, e, "pgadmin", "postgres", `CREATE ROLE orders_owner`, `CREATE ROLE orders_readers`)
			ordersSchema(t, e, "orders")
		},
		standIn: func(e *emulator.Emulator) stubproviders.StandInValues {
			return stubproviders.StandInValues{"azurerm_user_assigned_identity": {"orders-api": identityValues(e, "orders-api")}}
		},
	},
	"azure-ai-managed-identity.md": {
		// ARM made the databases (azurerm_postgresql_flexible_server_database;
		// the emulator guesses that the Entra admin owns them).
		setup: func(t *testing.T, e *emulator.Emulator) { createDatabases(t, e, "orders", "reports") },
		env: func(*testing.T, *emulator.Emulator) map[string]string {
			return map[string]string{
				"TF_VAR_pipeline_identity_name": "ci-pipeline-mi",
				"TF_VAR_ml_scoring_uri":         "https://orders-ml.westeurope.inference.ml.azure.com/score",
				"TF_VAR_openai_key":             "guide-test-openai-key",
			}
		},
		standIn: func(e *emulator.Emulator) stubproviders.StandInValues {
			const serverIdentity = "5c1d0e2a-7b3f-4e6a-9c8d-0f1e2d3c4b5a" // the server's system-assigned identity
			return stubproviders.StandInValues{
				"azurerm_postgresql_flexible_server": {"orders-pg": {"fqdn": "localhost", "identity.0.principal_id": serverIdentity}},
				"azurerm_client_config":              {"*": {"tenant_id": e.TenantID()}},
				"azurerm_cognitive_account": {
					"orders-openai":     {"endpoint": "https://orders-openai.openai.azure.com/"},
					"orders-language":   {"endpoint": "https://orders-language.cognitiveservices.azure.com/"},
					"orders-translator": {"location": "westeurope", "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/orders-translator"},
				},
				"azapi_update_resource": {"*": {"output": map[string]any{"identity": map[string]any{"principalId": serverIdentity}}}},
			}
		},
	},
	"server-database-and-access.md": {
		// ARM made the database orders, owned by the Entra admin (the
		// emulator's guess, as for the azure_ai guide).
		setup: func(t *testing.T, e *emulator.Emulator) { createDatabases(t, e, "orders") },
		standIn: func(e *emulator.Emulator) stubproviders.StandInValues {
			return stubproviders.StandInValues{
				"azurerm_postgresql_flexible_server": {"pg-orders-prod": {"fqdn": "localhost"}},
				"azurerm_client_config":              {"*": {"tenant_id": e.TenantID(), "object_id": "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a01"}},
			}
		},
	},
	"import-existing-roles.md": {
		// Principals made by hand, before Terraform.
		setup: func(t *testing.T, e *emulator.Emulator) {
			guideSQL(t, e, "admin", "postgres",
				`SELECT pgaadauth_create_principal('alice@contoso.com', false, true)`,
				`SELECT pgaadauth_create_principal('bob@contoso.com', false, false)`,
				`SELECT pgaadauth_create_principal('DBA Team', true, false)`,
				`SELECT pgaadauth_create_principal('O''Brien''s Team', false, false)`)
		},
	},
	"migrate-from-postgresql-provider.md": {
		// What the configuration before the migration relies on, and what it
		// made with the general provider logged in as the Entra admin: plain
		// roles with the old single pgaadauth label, their access and
		// memberships. (Its postgresql_* resources are stand-ins that only
		// keep their state, so the test makes on the server what they made.)
		setup: func(t *testing.T, e *emulator.Emulator) {
			createDatabases(t, e, "orders")
			guideSQL(t, e, "admin", "postgres",
				`CREATE ROLE orders_owner`, `GRANT orders_owner TO "ci-pipeline-mi"`,
				`CREATE ROLE orders_readers`, `CREATE ROLE dba_team`,
				`CREATE ROLE "alice@contoso.com" LOGIN`,
				`SECURITY LABEL FOR pgaadauth ON ROLE "alice@contoso.com" IS 'aadauth,oid=6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05,type=user'`,
				`CREATE ROLE "orders-api" LOGIN`,
				`SECURITY LABEL FOR pgaadauth ON ROLE "orders-api" IS 'aadauth,oid=6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a02,type=service'`,
				`GRANT orders_readers TO "orders-api"`,
				`GRANT dba_team TO "alice@contoso.com" WITH ADMIN OPTION`)
			ordersSchema(t, e, "orders")
			guideSQL(t, e, "superuser", "orders",
				`CREATE PROCEDURE sales.archive_orders() LANGUAGE sql AS 'SELECT 1'`,
				`ALTER PROCEDURE sales.archive_orders() OWNER TO orders_owner`)
			guideSQL(t, e, "admin", "orders",
				`GRANT CONNECT ON DATABASE orders TO "orders-api"`,
				`ALTER DEFAULT PRIVILEGES FOR ROLE orders_owner IN SCHEMA sales GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "orders-api"`,
				`SET ROLE orders_owner`,
				`GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA sales TO "orders-api"`)
		},
	},
	"pipelines-oidc.md": {
		// GitHub Actions, as the page's workflow sets it up: ARM_USE_OIDC,
		// ARM_CLIENT_ID, ARM_TENANT_ID, and GitHub's ID token endpoint
		// (faked, with a fake Entra authority that exchanges its token for an
		// emulator token of ci-pipeline-mi).
		env: func(t *testing.T, e *emulator.Emulator) map[string]string {
			entra := guideEntra(t, e)
			return map[string]string{
				"ARM_USE_OIDC": "true", "ARM_CLIENT_ID": e.AdminClientID(), "ARM_TENANT_ID": e.TenantID(),
				"ACTIONS_ID_TOKEN_REQUEST_URL": entra.GitHubURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": entra.GitHubRequestToken,
				"AZURE_AUTHORITY_HOST": entra.URL, "SSL_CERT_FILE": entra.CAFile,
				"IDENTITY_ENDPOINT": "", "IDENTITY_HEADER": "", "AZUREPG_AUTH_METHOD": "", "AZUREPG_USERNAME": "",
			}
		},
	},
	"pipelines-oidc-hcp-terraform.md": {
		// An HCP Terraform run with Azure dynamic credentials: the files it
		// writes and the variable it sets (a fake Entra authority exchanges
		// the federated token).
		env: func(t *testing.T, e *emulator.Emulator) map[string]string {
			entra := guideEntra(t, e)
			dir := t.TempDir()
			clientID, token := filepath.Join(dir, "client-id"), filepath.Join(dir, "tfc-azure-token")
			writeFile(t, clientID, e.AdminClientID()+"\n")
			writeFile(t, token, entra.Assertion)
			creds := `{"default": {"client_id_file_path": "` + clientID + `", "oidc_token_file_path": "` + token + `"}, "aliases": {}}`
			return map[string]string{
				"TF_VAR_tfc_azure_dynamic_credentials": creds,
				"AZURE_AUTHORITY_HOST":                 entra.URL, "SSL_CERT_FILE": entra.CAFile,
				"IDENTITY_ENDPOINT": "", "IDENTITY_HEADER": "", "AZUREPG_AUTH_METHOD": "", "AZUREPG_USERNAME": "",
			}
		},
	},
	"troubleshooting-errors.md": {
		// pat@contoso.com, made by hand and imported into a configuration,
		// owns a table in orders (the role that owns objects); alice@contoso.com
		// exists already (the configuration fixes import her).
		setup: func(t *testing.T, e *emulator.Emulator) {
			createDatabases(t, e, "orders")
			guideSQL(t, e, "pgadmin", "postgres", `CREATE ROLE orders_owner`)
			guideSQL(t, e, "admin", "postgres",
				`SELECT pgaadauth_create_principal('alice@contoso.com', false, true)`,
				`SELECT pgaadauth_create_principal('pat@contoso.com', false, false)`)
			guideSQL(t, e, "superuser", "orders",
				`CREATE SCHEMA sales AUTHORIZATION orders_owner`,
				`CREATE TABLE sales.scratch (id int)`, `ALTER TABLE sales.scratch OWNER TO "pat@contoso.com"`)
		},
		configs: map[string]string{"pat": `import {
  to = azurepg_principal.pat
  id = "pat@contoso.com"
}

resource "azurepg_principal" "pat" {
  name = "pat@contoso.com"
}
`},
	},
	"use-with-postgresql-provider.md": {
		// The database orders with a table in public, made by the Entra admin.
		setup: func(t *testing.T, e *emulator.Emulator) {
			createDatabases(t, e, "orders")
			guideSQL(t, e, "admin", "orders", `CREATE TABLE public.orders (id int PRIMARY KEY)`)
		},
		env: func(_ *testing.T, e *emulator.Emulator) map[string]string {
			owner, _ := e.Object("orders-schema-owner-mi")
			return map[string]string{"TF_VAR_pipeline_client_id": e.AdminClientID(), "TF_VAR_schema_owner_client_id": owner.ClientID}
		},
	},
}

// identityValues are the stand-in values of an azurerm_user_assigned_identity
// of the emulator's tenant.
func identityValues(e *emulator.Emulator, name string) map[string]any {
	o, ok := e.Object(name)
	if !ok {
		panic("no " + name + " in the emulator's tenant")
	}
	return map[string]any{"principal_id": o.ObjectID, "client_id": o.ClientID, "tenant_id": e.TenantID()}
}

// ordersSchema makes the schema sales and its tables orders and customers,
// owned by orders_owner, in a database.
func ordersSchema(t *testing.T, e *emulator.Emulator, db string) {
	t.Helper()
	guideSQL(t, e, "superuser", db,
		`CREATE SCHEMA sales AUTHORIZATION orders_owner`,
		`SET ROLE orders_owner`,
		`CREATE TABLE sales.orders (id int PRIMARY KEY, total numeric)`,
		`CREATE TABLE sales.customers (id int PRIMARY KEY, name text)`)
}

// createDatabases creates databases as the Entra admin, as the emulator's
// -database does (the emulator's guess of what ARM does).
func createDatabases(t *testing.T, e *emulator.Emulator, names ...string) {
	t.Helper()
	for _, n := range names {
		guideSQL(t, e, "admin", "postgres", "CREATE DATABASE "+pgx.Identifier{n}.Sanitize())
	}
}

// guideSQL runs statements in one session as admin (the Entra admin, with
// a token), pgadmin or superuser.
func guideSQL(t *testing.T, e *emulator.Emulator, role, db string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var url string
	switch role {
	case "admin":
		tok, err := e.IssueToken(ctx, acctest.ResourcePublic, "")
		if err != nil {
			t.Fatal(err)
		}
		url = e.URL(e.AdminName(), tok.Value, db)
	case "pgadmin":
		url = e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), db)
	case "superuser":
		url = e.SuperuserURL(db)
	default:
		t.Fatalf("guideSQL: unknown role %q", role)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting as %s to %s: %v", role, db, err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("as %s in %s: %s: %v", role, db, s, err)
		}
	}
}

// guideEntra is a fake Entra authority (and GitHub ID token endpoint) that
// exchanges its federated token for an emulator token of the Entra admin.
func guideEntra(t *testing.T, e *emulator.Emulator) *acctest.FakeEntra {
	t.Helper()
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, e.AdminClientID())
	if err != nil {
		t.Fatal(err)
	}
	entra := acctest.NewFakeEntra(t, tok)
	entra.Assertion = "eyJhbGciOiJSUzI1NiJ9.guide-test-federated-token.sig"
	entra.GitHubRequestToken = "ghs_guide-test-request-token"
	// The page's provider block logged in through it, or the page did not run
	// what it says.
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		rs := entra.Requests()
		if len(rs) == 0 {
			t.Error("the fake Entra authority was never asked for a token: the provider did not log in with the federated token")
		}
		for _, r := range rs {
			if r.Assertion != entra.Assertion || r.ClientID != e.AdminClientID() || r.Tenant != e.TenantID() {
				t.Errorf("a token request with another assertion, client or tenant: %+v", r)
			}
		}
		if github, _ := entra.CIRequests(); github > 0 {
			t.Logf("GitHub's ID token endpoint handed out %d federated tokens; %d exchanges", github, len(rs))
		}
	})
	return entra
}
