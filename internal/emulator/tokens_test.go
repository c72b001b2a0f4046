package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

const (
	resourceChina = "https://ossrdbms-aad.database.chinacloudapi.cn"
	resourceUSGov = "https://ossrdbms-aad.database.usgovcloudapi.net"
)

// defaultAsked is set once this process asked for the default identity's token.
var defaultAsked bool

// identity adds a managed identity to the tenant and makes it a principal
// (not an admin), so that a test has its own token lifetime and counts.
func identity(t *testing.T) emulator.Object {
	t.Helper()
	o := addObject(t, "managed_identity", hostile("token mi"))
	exec(t, super(t, "postgres"), "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", o.Name, o.ObjectID)
	return o
}

// credential is azidentity's ManagedIdentityCredential for a user-assigned
// identity, pointed at the emulator's App Service endpoint by environment.
func credential(t *testing.T, clientID, header string) azcore.TokenCredential {
	t.Helper()
	e := need(t)
	t.Setenv("IDENTITY_ENDPOINT", e.TokenEndpoint())
	t.Setenv("IDENTITY_HEADER", header)
	opts := &azidentity.ManagedIdentityCredentialOptions{}
	if clientID != "" {
		opts.ID = azidentity.ClientID(clientID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func getToken(t *testing.T, cred azcore.TokenCredential, resource string) (azcore.AccessToken, error) {
	t.Helper()
	return cred.GetToken(testCtx(t), policy.TokenRequestOptions{Scopes: []string{resource + "/.default"}})
}

func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token is not a JWT: %d parts", len(parts))
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// login opens a new connection as role with the token as password.
func login(t *testing.T, role, token string) (*pgx.Conn, error) {
	t.Helper()
	return open(t, need(t).URL(role, token, "postgres"))
}

func TestTokenEndpoint(t *testing.T) {
	e := need(t)
	mi := identity(t)
	cred := credential(t, mi.ClientID, e.IdentityHeader())

	before := time.Now()
	tok, err := getToken(t, cred, resourcePublic)
	if err != nil {
		t.Fatalf("ManagedIdentityCredential.GetToken: %v", err)
	}
	checkExpiry(t, "the token", tok.ExpiresOn, before, time.Now(), time.Hour)
	if n := e.TokenRequests(resourcePublic, mi.ClientID); n != 1 {
		t.Errorf("TokenRequests(public, client) = %d, want 1", n)
	}
	if n := e.TokenRequestsFor(mi.ClientID); n != 1 {
		t.Errorf("TokenRequestsFor(client) = %d, want 1", n)
	}
	c := claims(t, tok.Token)
	for k, want := range map[string]string{"aud": resourcePublic, "oid": mi.ObjectID, "appid": mi.ClientID,
		"tid": e.TenantID(), "iss": "https://sts.windows.net/" + e.TenantID() + "/"} {
		if c[k] != want {
			t.Errorf("claim %s = %v, want %s", k, c[k], want)
		}
	}
	conn, err := login(t, mi.Name, tok.Token)
	if err != nil {
		t.Fatalf("logging in with the token: %v", err)
	}
	if u := scalar[string](t, conn, "SELECT current_user"); u != mi.Name {
		t.Errorf("current_user %q", u)
	}
	// Not another role's password.
	_, err = login(t, e.AdminName(), tok.Token)
	if admin, ok := e.Object(e.AdminName()); ok && e.TokenLogin() == emulator.TokenLoginFrontDoor {
		pgErr(t, err, "28P01", oidMismatch(e.AdminName(), admin.ObjectID, mi.ClientID, mi.ObjectID))
	} else {
		pgErr(t, err, "28P01", `password authentication failed for user "`+e.AdminName()+`"`)
	}

	t.Run("counted per resource and client id", func(t *testing.T) {
		// azidentity (MSAL) caches tokens process-wide: asking again for a
		// resource it holds a fresh token for makes no request.
		for _, r := range []string{resourceChina, resourceUSGov, resourceChina, resourcePublic} {
			if _, err := getToken(t, credential(t, mi.ClientID, e.IdentityHeader()), r); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
		}
		for r, want := range map[string]int{resourcePublic: 1, resourceChina: 1, resourceUSGov: 1} {
			if n := e.TokenRequests(r, mi.ClientID); n != want {
				t.Errorf("TokenRequests(%s) = %d, want %d", r, n, want)
			}
			if n := e.TokenRequests(r+"/.default", mi.ClientID); n != want {
				t.Errorf("TokenRequests(%s/.default) = %d, want %d", r, n, want)
			}
		}
		if n := e.TokenRequestsFor(mi.ClientID); n != 3 {
			t.Errorf("TokenRequestsFor = %d, want 3", n)
		}
		// Another identity is counted apart.
		other := identity(t)
		for range 2 {
			// IssueToken (a fake az, or a test logging in by hand) is not counted.
			if _, err := e.IssueToken(testCtx(t), resourcePublic, other.ClientID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := getToken(t, credential(t, other.ClientID, e.IdentityHeader()), resourcePublic); err != nil {
			t.Fatal(err)
		}
		if n, m := e.TokenRequestsFor(other.ClientID), e.TokenRequests(resourcePublic, other.ClientID); n != 1 || m != 1 {
			t.Errorf("other identity: TokenRequestsFor %d, TokenRequests %d, want 1 and 1", n, m)
		}
		if n := e.TokenRequestsFor(mi.ClientID); n != 3 {
			t.Errorf("another identity's requests were counted for this one: %d", n)
		}
		// The default identity (no client_id) is the admin, counted under "".
		before := e.TokenRequests(resourcePublic, "")
		dtok, err := getToken(t, credential(t, "", e.IdentityHeader()), resourcePublic)
		if err != nil {
			t.Fatal(err)
		}
		// MSAL's process-wide cache answers a second run (-count > 1).
		if n := e.TokenRequests(resourcePublic, ""); n != before+1 && (!defaultAsked || n != before) {
			t.Errorf("TokenRequests(public, \"\") = %d, want %d", n, before+1)
		}
		defaultAsked = true
		if c := claims(t, dtok.Token); c["appid"] != e.AdminClientID() {
			t.Errorf("the default identity's token is for %v, want the admin %s", c["appid"], e.AdminClientID())
		}
		if n := e.TokenRequestsFor(mi.ClientID); n != 3 {
			t.Errorf("the default identity's request was counted for %s", mi.ClientID)
		}
	})

	t.Run("unknown resource", func(t *testing.T) {
		_, err := getToken(t, credential(t, mi.ClientID, e.IdentityHeader()), "https://management.azure.com")
		if err == nil || !strings.Contains(err.Error(), "AADSTS500011") {
			t.Fatalf("want AADSTS500011 for an unknown resource, got %v", err)
		}
		if n := e.TokenRequests("https://management.azure.com", mi.ClientID); n < 1 {
			t.Errorf("the refused request was not counted")
		}
	})

	t.Run("unknown client id", func(t *testing.T) {
		_, err := getToken(t, credential(t, "00000000-0000-0000-0000-000000000001", e.IdentityHeader()), resourcePublic)
		if err == nil || !strings.Contains(err.Error(), "no managed identity with client_id") {
			t.Fatalf("want an unknown identity refused, got %v", err)
		}
	})

	t.Run("wrong identity header", func(t *testing.T) {
		// A new identity: MSAL would answer from its cache for mi.
		fresh := identity(t)
		_, err := getToken(t, credential(t, fresh.ClientID, "wrong-"+e.IdentityHeader()), resourcePublic)
		if err == nil || !strings.Contains(err.Error(), "X-IDENTITY-HEADER") {
			t.Fatalf("want a wrong header refused, got %v", err)
		}
		// Without the header at all, by hand.
		q := url.Values{"api-version": {"2019-08-01"}, "resource": {resourcePublic}, "client_id": {mi.ClientID}}
		for _, header := range []string{"", "wrong"} {
			req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.TokenEndpoint()+"?"+q.Encode(), nil)
			if header != "" {
				req.Header.Set("X-IDENTITY-HEADER", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "access_token") {
				t.Errorf("header %q: status %d, body %s", header, resp.StatusCode, body)
			}
		}
		// By hand with the right header, the protocol's response.
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.TokenEndpoint()+"?"+q.Encode(), nil)
		req.Header.Set("X-IDENTITY-HEADER", e.IdentityHeader())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		if body["access_token"] == "" || body["token_type"] != "Bearer" || body["resource"] != resourcePublic ||
			body["client_id"] != mi.ClientID || body["expires_on"] == "" {
			t.Errorf("response %v", redact(body))
		}
	})
}

func redact(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k == "access_token" && v != "" {
			v = "<redacted>"
		}
		out[k] = v
	}
	return out
}

// A token is checked when a connection opens: after it expires a new
// connection with it is refused, while an open one lives on and a fresh
// token works. Tokens live 3 s, so that the test can wait for one to
// expire; a log-in that must happen before expiry is judged only when it
// ended before (on a machine too slow for that, it is tried again, once
// the token expired, with tokens that live twice as long).
func TestTokenExpiry(t *testing.T) {
	e := need(t)
	mi := identity(t)
	cred := credential(t, mi.ClientID, e.IdentityHeader())
	lifetime, requests := 3*time.Second, 0
	loginInTime := func(what string) (azcore.AccessToken, *pgx.Conn) {
		t.Helper()
		for {
			e.SetTokenLifetime(mi.ClientID, lifetime)
			before := time.Now()
			tok, err := getToken(t, cred, resourcePublic)
			if err != nil {
				t.Fatal(err)
			}
			requests++
			checkExpiry(t, what+": the token", tok.ExpiresOn, before, time.Now(), lifetime)
			conn, err := login(t, mi.Name, tok.Token)
			switch {
			case err == nil:
				return tok, conn
			case time.Now().Before(tok.ExpiresOn):
				t.Fatalf("%s: logging in with an unexpired token: %v", what, err)
			case lifetime > waitDeadline:
				t.Fatalf("%s: the log-in took longer than the %s token lived: %v", what, lifetime, err)
			}
			t.Logf("%s: the %s token expired before the log-in ended (%v): again with tokens that live twice as long", what, lifetime, err)
			lifetime *= 2
			time.Sleep(time.Until(tok.ExpiresOn) + 100*time.Millisecond) // so that the endpoint and azidentity's cache give a new one
		}
	}

	old, live := loginInTime("before expiry")
	time.Sleep(time.Until(old.ExpiresOn) + 1100*time.Millisecond)
	_, err := login(t, mi.Name, old.Token)
	// The front door answers with Azure's text; with token login "password",
	// PostgreSQL refuses the expired password with its own.
	want := msgExpired
	if e.TokenLogin() == emulator.TokenLoginPassword {
		want = `password authentication failed for user "` + mi.Name + `"`
	}
	pgErr(t, err, "28P01", want)
	if v := scalar[int](t, live, "SELECT 1"); v != 1 {
		t.Error("the connection opened before expiry broke")
	}

	fresh, _ := loginInTime("with a fresh token")
	if fresh.Token == old.Token {
		t.Fatal("the expired token was served again")
	}
	if n := e.TokenRequests(resourcePublic, mi.ClientID); n != requests {
		t.Errorf("TokenRequests = %d, want %d", n, requests)
	}
}

// tokens.go documents that the endpoint serves an identity's current token
// while it has more than half its lifetime left, and otherwise issues a new
// one; the older one still logs in until it expires (with TokenLoginPassword
// it is refused at once).
func TestTokenReplaced(t *testing.T) {
	e := need(t)
	ctx := testCtx(t)

	t.Run("cached while fresh", func(t *testing.T) {
		mi := identity(t)
		t1, err := e.IssueToken(ctx, resourcePublic, mi.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		t2, err := e.IssueToken(ctx, resourcePublic+"/.default", mi.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if t1.Value != t2.Value {
			t.Error("a fresh token was replaced")
		}
		if _, err := login(t, mi.Name, t1.Value); err != nil {
			t.Fatal(err)
		}
		// Another resource's token is another token, and both work.
		t3, err := e.IssueToken(ctx, resourceChina, mi.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if t3.Value == t1.Value {
			t.Error("the same token for two resources")
		}
	})

	t.Run("past half its lifetime", func(t *testing.T) {
		// The older token must still be valid when it is tried: judged only
		// when the log-ins ended before it expired (on a machine too slow
		// for that, tried again with tokens that live twice as long).
		for lifetime := 6 * time.Second; ; lifetime *= 2 {
			mi := identity(t)
			e.SetTokenLifetime(mi.ClientID, lifetime)
			t1, err := e.IssueToken(ctx, resourcePublic, mi.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Until(t1.ExpiresOn.Add(-lifetime/2)) + 100*time.Millisecond)
			t2, err := e.IssueToken(ctx, resourcePublic, mi.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			if t2.Value == t1.Value {
				t.Fatal("no new token past half the lifetime")
			}
			_, err1 := login(t, mi.Name, t1.Value)
			_, err2 := login(t, mi.Name, t2.Value)
			if time.Now().Before(t1.ExpiresOn) { // and so t2's
				judgeReplaced(t, e, mi.Name, err1)
				if err2 != nil {
					t.Fatalf("the new token: %v", err2)
				}
				return
			}
			if lifetime > waitDeadline {
				t.Fatalf("the log-ins took longer than half a %s token's lifetime", lifetime)
			}
			t.Logf("the %s tokens expired before the log-ins ended: again with tokens that live twice as long", lifetime)
		}
	})

	t.Run("after RevokeTokens", func(t *testing.T) {
		mi := identity(t)
		t1, err := e.IssueToken(ctx, resourcePublic, mi.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		e.RevokeTokens()
		t2, err := e.IssueToken(ctx, resourcePublic, mi.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if t2.Value == t1.Value {
			t.Fatal("RevokeTokens did not make the next request mint a new token")
		}
		replacedToken(t, e, mi.Name, t1.Value)
		if _, err := login(t, mi.Name, t2.Value); err != nil {
			t.Fatalf("the new token: %v", err)
		}
	})
}

// replacedToken asserts what happens to an unexpired token after a newer
// one was issued: behind the front door it still logs in, as on Azure; with
// TokenLoginPassword it was replaced (the emulator's old gap).
func replacedToken(t *testing.T, e *emulator.Emulator, role, token string) {
	t.Helper()
	_, err := login(t, role, token)
	judgeReplaced(t, e, role, err)
}

// judgeReplaced is replacedToken for the outcome err of the log-in.
func judgeReplaced(t *testing.T, e *emulator.Emulator, role string, err error) {
	t.Helper()
	if e.TokenLogin() == emulator.TokenLoginFrontDoor {
		if err != nil {
			t.Fatalf("an unexpired older token was refused: %v", err)
		}
		return
	}
	pgErr(t, err, "28P01", `password authentication failed for user "`+role+`"`)
}

// A token issued before the identity's role exists logs in once the role is
// created (on Azure the token is checked by signature, not stored).
func TestTokenBeforePrincipal(t *testing.T) {
	e := need(t)
	mi := addObject(t, "managed_identity", hostile("late principal"))
	tok, err := e.IssueToken(testCtx(t), resourcePublic, mi.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	scalar[string](t, admin(t, "postgres"), "SELECT pgaadauth_create_principal($1, false, false)", mi.Name)
	again, err := e.IssueToken(testCtx(t), resourcePublic, mi.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := login(t, mi.Name, again.Value); err != nil {
		t.Fatalf("logging in with the identity's current token after its principal was created: %v", err)
	}
	if again.Value != tok.Value {
		t.Log("the endpoint minted a new token although the first one was fresh")
	}
}

// Object and client ids are GUIDs: their case does not matter, as in Entra.
func TestTokenIDsIgnoreCase(t *testing.T) {
	e := need(t)
	o, err := e.AddObject(testCtx(t), emulator.Object{Kind: "managed_identity", Name: hostile("upper mi"),
		ObjectID: strings.ToUpper(uuid.NewString()), ClientID: strings.ToUpper(uuid.NewString())})
	if err != nil {
		t.Fatal(err)
	}
	scalar[string](t, admin(t, "postgres"), "SELECT pgaadauth_create_principal($1, false, false)", o.Name)
	if _, li := labels(t, o.Name); !strings.Contains(li, "oid="+strings.ToLower(o.ObjectID)+",") {
		t.Errorf("label %q does not carry the object id in lower case", li)
	}
	for _, clientID := range []string{o.ClientID, strings.ToLower(o.ClientID)} {
		tok, err := e.IssueToken(testCtx(t), resourcePublic, clientID)
		if err != nil {
			t.Fatalf("client id %s: %v", clientID, err)
		}
		if _, err := login(t, o.Name, tok.Value); err != nil {
			t.Errorf("client id %s: logging in: %v", clientID, err)
		}
	}
}
