package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// endpointToken asks an emulator's managed-identity endpoint for a token,
// over HTTP as azidentity does (clientID "" for the Entra admin).
func endpointToken(t *testing.T, e *emulator.Emulator, clientID string) string {
	t.Helper()
	q := url.Values{"api-version": {"2019-08-01"}, "resource": {resourcePublic}}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.TokenEndpoint()+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-IDENTITY-HEADER", e.IdentityHeader())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body["access_token"] == "" {
		t.Fatalf("token endpoint on %s: status %d, %v, error %q", e.TokenEndpoint(), resp.StatusCode, err, body["error_description"])
	}
	return body["access_token"]
}

// urlWithCA is a verify-full connection string to the emulator's port under
// its name, localhost, trusting only the CA file given.
func urlWithCA(e *emulator.Emulator, caFile, role, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(role, password), Host: "localhost:" + strconv.Itoa(e.Port()), Path: "/postgres",
		RawQuery: url.Values{"sslmode": {"verify-full"}, "sslrootcert": {caFile}}.Encode()}
	return u.String()
}

// label is the role's pgaadauth-int label on the emulator, which names the
// Entra object and tenant ("" without one).
func label(t *testing.T, e *emulator.Emulator, role string) string {
	t.Helper()
	var l string
	err := e.Superuser().QueryRow(testCtx(t), `SELECT coalesce((SELECT s.label FROM pg_shseclabel s JOIN pg_roles r
		ON r.oid = s.objoid AND s.classoid = 'pg_authid'::regclass WHERE s.provider = 'pgaadauth-int' AND r.rolname = $1), '')`, role).Scan(&l)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSameCloudAs: a second emulator of the same cloud and tenant (Options.
// SameCloudAs) behaves as another Azure server of the subscription: one CA
// file verifies both with verify-full under the name localhost, a token
// from either's managed-identity endpoint logs in on both, the tenant
// directory is one (an object added on either, also while the other is
// down, becomes a principal on both, its label naming the same object and
// tenant), and the Entra admin is the same principal. Its port is outside
// Linux's ephemeral range, and its front door counts the connections it
// accepts.
func TestSameCloudAs(t *testing.T) {
	first := front(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	second, err := emulator.Start(ctx, emulator.Options{SameCloudAs: first})
	if err != nil {
		t.Fatalf("starting an emulator of the same cloud: %v", err)
	}
	defer second.Stop()

	if p := second.Port(); p == first.Port() || p < 1024 || p >= 32768 {
		t.Errorf("ports %d and %d: want two ports, the second below Linux's ephemeral range (32768-60999)", first.Port(), p)
	}
	if second.Host() != "localhost" || second.TenantID() != first.TenantID() || second.AdminName() != first.AdminName() ||
		second.AdminClientID() != first.AdminClientID() {
		t.Errorf("host %q, tenant %s, admin %q (%s); want localhost and the first's tenant %s and admin %q (%s)", second.Host(),
			second.TenantID(), second.AdminName(), second.AdminClientID(), first.TenantID(), first.AdminName(), first.AdminClientID())
	}
	if l1, l2 := label(t, first, first.AdminName()), label(t, second, second.AdminName()); l1 == "" || l1 != l2 {
		t.Errorf("the Entra admin's label: %q on the first, %q on the second; want one principal", l1, l2)
	}

	// One CA and one token: the first's endpoint and CA file for the
	// second, and the other way round.
	for _, c := range []struct {
		what             string
		issuer, on, cert *emulator.Emulator
	}{
		{"the first's token and CA file on the second", first, second, first},
		{"the second's token and CA file on the first", second, first, second},
		{"the first's token and the second's CA file on the second", first, second, second},
	} {
		before := c.on.Accepted()
		conn := mustOpen(t, urlWithCA(c.on, c.cert.CAFile(), c.on.AdminName(), endpointToken(t, c.issuer, "")))
		if who := scalar[string](t, conn, "SELECT current_user"); who != c.on.AdminName() {
			t.Errorf("%s: logged in as %q", c.what, who)
		}
		if n := c.on.Accepted() - before; n != 1 {
			t.Errorf("%s: the front door counted %d connections, want 1", c.what, n)
		}
		conn.Close(testCtx(t))
	}
	// 127.0.0.1 is not the certificate's name: verify-full fails, and the
	// front door counted the connection all the same.
	before := second.Accepted()
	bad := strings.Replace(urlWithCA(second, first.CAFile(), second.AdminName(), "x"), "@localhost:", "@127.0.0.1:", 1)
	if _, err := open(t, bad); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("verify-full to 127.0.0.1: %v, want a certificate error", err)
	}
	if n := second.Accepted() - before; n != 1 {
		t.Errorf("a failed TLS handshake: the front door counted %d connections, want 1", n)
	}

	// One directory: objects added on either server, the second down for
	// the last one, become principals on both; each logs in on both with a
	// token from the first's endpoint.
	fromFirst, err := first.AddObject(testCtx(t), emulator.Object{Kind: "managed_identity", Name: hostile("same cloud, first")})
	if err != nil {
		t.Fatal(err)
	}
	fromSecond, err := second.AddObject(testCtx(t), emulator.Object{Kind: "managed_identity", Name: hostile("same cloud, second")})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Down(); err != nil {
		t.Fatal(err)
	}
	whileDown, err := first.AddObject(testCtx(t), emulator.Object{Kind: "managed_identity", Name: hostile("same cloud, while down")})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Up(ctx); err != nil {
		t.Fatalf("Up: %v", err)
	}
	for _, o := range []emulator.Object{fromFirst, fromSecond, whileDown} {
		if got, ok := second.Object(o.Name); !ok || got != o {
			t.Errorf("Object(%q) on the second: %+v, %v; want %+v", o.Name, got, ok, o)
		}
		for _, e := range []*emulator.Emulator{first, second} {
			adminConn := mustOpen(t, urlWithCA(e, first.CAFile(), e.AdminName(), endpointToken(t, first, "")))
			exec(t, adminConn, "SELECT pgaadauth_create_principal($1, false, false)", o.Name)
			want := "type=service,oid=" + o.ObjectID + ",tenant_id=" + first.TenantID()
			if l := label(t, e, o.Name); !strings.EqualFold(l, want) {
				t.Errorf("%q on port %d: label %q, want %q", o.Name, e.Port(), l, want)
			}
			conn := mustOpen(t, urlWithCA(e, first.CAFile(), o.Name, endpointToken(t, first, o.ClientID)))
			if who := scalar[string](t, conn, "SELECT current_user"); who != o.Name {
				t.Errorf("logged in on port %d as %q, want %q", e.Port(), who, o.Name)
			}
		}
	}
	var tenantID string
	if err := second.Superuser().QueryRow(testCtx(t), "SELECT tenant_id::text FROM azure_emulator.tenant").Scan(&tenantID); err != nil || tenantID != first.TenantID() {
		t.Errorf("the second's tenant: %q (%v), want %s", tenantID, err, first.TenantID())
	}
}

// SameCloudAs refuses what would make the two clouds differ.
func TestSameCloudAsRefusals(t *testing.T) {
	first := front(t)
	for _, c := range []struct {
		opts emulator.Options
		want string
	}{
		{emulator.Options{SameCloudAs: first, TenantFile: "tenant.json"}, "SameCloudAs and TenantFile exclude each other"},
		{emulator.Options{SameCloudAs: first, TokenLogin: emulator.TokenLoginPassword}, `SameCloudAs needs both emulators to check tokens with the front door`},
	} {
		e, err := emulator.Start(testCtx(t), c.opts)
		if err == nil {
			e.Stop()
			t.Errorf("Start(%+v) succeeded", c.opts)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Start: %v, want %q", err, c.want)
		}
	}
}
