package provider

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// TestAdviceInTerraformTerms: for the situations pgaad reports as facts,
// the diagnostic's detail names Terraform's resources, attributes and
// commands in place of pgaad's database-side advice, keeps the rest of
// pgaad's text, and follows the facts (e.g. no object_id proposed when it
// was set). pgaad's own tests check that it reports these facts.
func TestAdviceInTerraformTerms(t *testing.T) {
	db := `app "db"`
	for _, tc := range []struct {
		name      string
		e         *pgaad.Error
		want, not []string
	}{
		{"azure_ai missing", &pgaad.Error{Op: "reading azure_ai settings", Object: pgaad.Object{Type: pgaad.ObjectAISettings, Database: db},
			Kind: pgaad.ErrExtensionMissing, Advice: "pgaad's words", Fact: pgaad.Fact{Topic: pgaad.TopicAIExtensionMissing}},
			[]string{`resource "azurepg_extension" "azure_ai"`, `database = "app \"db\""`, "azurerm_postgresql_flexible_server_configuration", `in database "app \"db\""`}, []string{"pgaad's words"}},
		{"database missing", &pgaad.Error{Op: "reading azure_ai settings", Object: pgaad.Object{Type: pgaad.ObjectAISettings, Database: db},
			Kind: pgaad.ErrDatabaseMissing, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicDatabaseMissing}},
			[]string{"azurerm_postgresql_flexible_server_database", `no database "app \"db\""`}, nil},
		{"role missing", &pgaad.Error{Op: "granting role", Kind: pgaad.ErrNotFound, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicRoleMissing, Role: "r"}},
			[]string{`no role "r"`, "azurepg_principal for a Microsoft Entra principal"}, nil},
		{"predefined role", &pgaad.Error{Op: "granting role", Kind: pgaad.ErrPermissionDenied, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicPredefinedRole, Role: "pg_read_all_data"}},
			[]string{`"pg_read_all_data" is a predefined`, "(azurepg_grant)"}, nil},
		{"ambiguous", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrAmbiguous, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicAmbiguousName}},
			[]string{"Set object_id (and type)"}, nil},
		{"validation by name", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrValidation, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicValidation}},
			[]string{"Setting object_id and type would skip the name lookup, not this check"}, nil},
		{"validation by object id", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrValidation, Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicValidation, ByObjectID: true}},
			[]string{"object_id and type skip only the name lookup, not this check"}, []string{"Setting object_id", "set object_id"}},
		{"not in tenant by object id", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrNotInTenant, Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicNotInTenant, ByObjectID: true}},
			[]string{"Check object_id", "apply again in a minute"}, []string{"set object_id"}},
		{"type mismatch", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrTypeMismatch, Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicTypeMismatch, TenantType: "user", AskedType: "group"}},
			[]string{`but type is "group"`, `Set type = "user"`}, nil},
		{"role owns objects", &pgaad.Error{Op: "dropping principal", Kind: pgaad.ErrDependentObjects, Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicRoleOwnsObjects, Role: "r", Login: `"me"`, Steps: "first GRANT r TO \"me\";"}},
			[]string{"azurepg_reassign_owned", "By hand, as the Entra admin, first GRANT r TO \"me\";"}, nil},
		{"read replica", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrReadReplica, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicReadReplica}},
			[]string{"Point the provider's host at the primary server"}, nil},
		{"no slots", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("no free slots"), Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicNoSlots}},
			[]string{"no free slots", "terraform's -parallelism", "provider's max_connections", "Then run terraform apply again."}, nil},
		{"token for another cloud", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("another audience"), Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicTokenCloud, Cloud: "china", Resource: "https://ossrdbms-aad.database.windows.net"}},
			[]string{`Set the provider's cloud to "china" if the server is in that cloud`, "get a token for https://ossrdbms-aad.database.windows.net/.default"}, nil},
		{"token expired, expiry unknown", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("expired"), Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicTokenExpired}},
			[]string{"access_token (AZUREPG_ACCESS_TOKEN) is used as is, never refreshed", "another auth_method"}, []string{"clock"}},
		{"token expired at", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("expired"), Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicTokenExpired, ExpiresAt: time.Unix(1700000000, 0)}},
			[]string{"never refreshed", "Check this machine's clock too."}, nil},
		{"server without TLS", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("no TLS"), Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicNoTLS}},
			[]string{`Use sslmode = "disable" only for a local server without TLS`}, nil},
		{"TLS failed", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("TLS failed"), Advice: "x",
			Fact: pgaad.Fact{Topic: pgaad.TopicTLSFailed}},
			[]string{"set the provider's sslrootcert (or PGSSLROOTCERT)", "DigiCert Global Root G2", "For verify-full, the provider's host must be the server's FQDN"}, nil},
		{"schema missing", &pgaad.Error{Op: "creating extension", Object: pgaad.Object{Type: pgaad.ObjectExtension, Name: "hstore", Database: "db"},
			Kind: pgaad.ErrExtensionSchema, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicSchemaMissing}},
			[]string{"Create the schema first", "or leave schema unset"}, nil},
		{"extension versions, update targets", &pgaad.Error{Op: "updating extension", Object: pgaad.Object{Type: pgaad.ObjectExtension, Name: "hstore", Database: "db"},
			Kind: pgaad.ErrExtensionVersion, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicExtensionVersions,
				Versions: []string{"1.4", "1.8"}, DefaultVersion: "1.8", Installed: "1.4", UpdateTargets: []string{"1.8"}}},
			[]string{`Versions of "hstore" on this server: 1.4, 1.8 (default 1.8, used when version is not set).`,
				"The installed version 1.4 can be updated to: 1.8."}, []string{"replace"}},
		{"extension versions, no default", &pgaad.Error{Op: "creating extension", Object: pgaad.Object{Type: pgaad.ObjectExtension, Name: "x", Database: "db"},
			Kind: pgaad.ErrExtensionVersion, Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicExtensionVersions, Versions: []string{"1.0"}}},
			[]string{`Versions of "x" on this server: 1.0.`}, []string{"default", "installed"}},
		{"token of another identity, a service role, unknown identity", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("oid mismatch"),
			Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicTokenOtherIdentity, Role: `r "1"`, RoleKind: "service"}},
			[]string{`the role "r \"1\"" was created for (for a managed identity or service principal, auth_method and client_id select it)`,
				"set username to the role created for the token's identity;"}, []string{"(object ", "az login"}},
		{"token of another identity, a user's role", &pgaad.Error{Op: "connecting to", Kind: pgaad.ErrConnection, Err: errors.New("app user"),
			Advice: "x", Fact: pgaad.Fact{Topic: pgaad.TopicTokenOtherIdentity, Role: "u@contoso.com", RoleKind: "user", TokenObjectID: "o1"}},
			[]string{`auth_method = "azure_cli" after az login as that user`, "the token's identity (object o1)"}, []string{"client_id"}},
		{"read-only server", &pgaad.Error{Op: "creating principal", Kind: pgaad.ErrReadOnly, Err: errors.New("read-only"), Advice: pgaad.ReadOnlyAdvice,
			Fact: pgaad.Fact{Topic: pgaad.TopicReadOnly}},
			[]string{"auto_grow_enabled = true", "point the provider's host at the primary server", "Plans and refreshes still work meanwhile."},
			[]string{"--storage-auto-grow", "connect to the primary server instead"}},
		{"no topic", &pgaad.Error{Op: "granting role", Kind: pgaad.ErrPermissionDenied, Advice: "GRANT x TO y;"},
			[]string{"GRANT x TO y;"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := errorText(tc.e)
			if !strings.HasPrefix(got, tc.e.Op) {
				t.Errorf("pgaad's text is gone:\n%s", got)
			}
			if tc.e.Fact.Topic != "" && strings.Contains(got, "\n\nx") {
				t.Errorf("pgaad's advice is still there:\n%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("has %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestAdviceForEveryTopic: every Topic that pgaad declares (in any of its
// files) has the provider's words, so that no situation reaches a user in
// pgaad's terms only because its words were forgotten here.
func TestAdviceForEveryTopic(t *testing.T) {
	files, err := filepath.Glob("../pgaad/*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			spec, ok := node.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "Topic" {
				return true
			}
			for i, name := range spec.Names {
				lit := spec.Values[i].(*ast.BasicLit)
				n++
				if _, ok := adviceFor[pgaad.Topic(strings.Trim(lit.Value, `"`))]; !ok {
					t.Errorf("pgaad.%s (%s) has no advice in Terraform's terms (adviceFor)", name.Name, filepath.Base(file))
				}
			}
			return true
		})
	}
	if n < len(adviceFor) {
		t.Errorf("found %d topics in pgaad, but adviceFor words %d", n, len(adviceFor))
	}
}
