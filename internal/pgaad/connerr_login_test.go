package pgaad

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// TestLoginDiagnoseCloud: a token for another cloud's audience names that
// cloud and the configured one, and reports both as the fact (the emulator
// accepts every cloud's audience, so the provider test cannot reach this
// branch).
func TestLoginDiagnoseCloud(t *testing.T) {
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." +
		enc.EncodeToString([]byte(`{"aud":"https://ossrdbms-aad.database.chinacloudapi.cn","oid":"o1","exp":4102444800}`)) + ".c2ln"
	c := NewClient(Config{Username: "alice@contoso.com", Entra: true, Cloud: "AzureCloud"})
	claims, err := entratoken.DecodeClaims(tok)
	c.token.Store(&tokenInfo{claims: claims, err: err})
	ca := c.diagnoseToken("The access token does not have a valid audience claim.", time.Now())
	for _, want := range []string{`the configured cloud "public" takes tokens for "https://ossrdbms-aad.database.windows.net"`,
		`"https://ossrdbms-aad.database.chinacloudapi.cn" is the audience of cloud "china"`} {
		if !strings.Contains(ca.what, want) {
			t.Errorf("diagnosis %q lacks %q", ca.what, want)
		}
	}
	if !strings.Contains(ca.advice, `If the server is in cloud "china", configure that cloud`) {
		t.Errorf("advice %q does not name the cloud", ca.advice)
	}
	want := Fact{Topic: TopicTokenCloud, Cloud: "china", Resource: "https://ossrdbms-aad.database.windows.net"}
	if f := ca.fact; f.Topic != want.Topic || f.Cloud != want.Cloud || f.Resource != want.Resource {
		t.Errorf("fact %+v, want %+v", f, want)
	}
}

// TestLoginDiagnoseExpired: an expired token is told with its expiry, which
// the fact carries (the provider test waits for a real one to expire).
func TestLoginDiagnoseExpired(t *testing.T) {
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." +
		enc.EncodeToString([]byte(`{"aud":"https://ossrdbms-aad.database.windows.net","oid":"o1","exp":1700000000}`)) + ".c2ln"
	c := NewClient(Config{Username: "alice@contoso.com", Entra: true})
	claims, err := entratoken.DecodeClaims(tok)
	c.token.Store(&tokenInfo{claims: claims, err: err})
	ca := c.diagnoseToken("The access token has expired.", time.Unix(1700000060, 0))
	if !strings.Contains(ca.what, "the token expired at 2023-11-14T22:13:20Z (1m0s ago)") {
		t.Errorf("diagnosis %q", ca.what)
	}
	if !strings.Contains(ca.advice, "never refreshed") || !strings.Contains(ca.advice, "clock") || strings.Contains(ca.advice, "access_token") {
		t.Errorf("advice %q", ca.advice)
	}
	if ca.fact.Topic != TopicTokenExpired || !ca.fact.ExpiresAt.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("fact %+v", ca.fact)
	}
}

// TestLoginDiagnoseOtherIdentityText: Azure's two refusals of another
// identity's token are recognised by their text whatever the SQLSTATE
// (Azure's is not documented), also in another case, and diagnosed from
// the token's claims, or from the identifiers in the text when the claims
// are not known. Other texts under other SQLSTATEs are not login refusals.
func TestLoginDiagnoseOtherIdentityText(t *testing.T) {
	const (
		role    = `svc "role" @ é; 'x'`
		roleOID = "11111111-2222-3333-4444-555555555555"
		tokOID  = "66666666-7777-8888-9999-aaaaaaaaaaaa"
		appID   = "bbbbbbbb-cccc-dddd-eeee-ffffffffffff"
	)
	forUser := "Service Principals cannot generate AAD_AUTH_TOKENTYPE_APP_USER tokens for role[" + role + "]"
	mismatch := "Service principal oid mismatch for role[" + role + "]: the role's object id " + roleOID +
		" does not match the appid " + appID + " or oid " + tokOID + " in the token"
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." +
		enc.EncodeToString([]byte(`{"aud":"https://ossrdbms-aad.database.windows.net","oid":"`+tokOID+`","appid":"`+appID+
			`","tid":"t1","exp":4102444800}`)) + ".c2ln"
	claims, err := entratoken.DecodeClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, msg, code string
		claims          bool
		kind            string
		says            []string
	}{
		{"app token for a user, 28P01, claims", forUser, "28P01", true, "user",
			[]string{"the token is of the service principal or managed identity object " + tokOID + " (appid " + appID + ", tenant t1)",
				"was created for a user"}},
		{"app token for a user, unknown SQLSTATE, no claims", strings.ToUpper(forUser), "XX000", false, "user",
			[]string{"the token is of a service principal or managed identity, but the role", "was created for a user"}},
		{"oid mismatch, 28000, claims", mismatch, "28000", true, "service",
			[]string{"object " + tokOID + " (appid " + appID + ", tenant t1)", "another service principal or managed identity (object " + roleOID + ")"}},
		{"oid mismatch, no SQLSTATE, no claims", mismatch, "", false, "service",
			[]string{"the token is of the service principal or managed identity object " + tokOID + " (appid " + appID + ")",
				"another service principal or managed identity (object " + roleOID + ")"}},
		{"oid mismatch, only the publicly quoted words", "Service principal oid mismatch for role " + role + " does not match the appid " +
			appID + " or oid " + tokOID + " in the token", "XX000", false, "service",
			[]string{"object " + tokOID + " (appid " + appID + ")", "was created for another service principal or managed identity\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pgErr := &pgconn.PgError{Severity: "FATAL", Code: tc.code, Message: tc.msg}
			if !loginRefused(pgErr) {
				t.Fatalf("%q (SQLSTATE %q) is not taken for a refused login", tc.msg, tc.code)
			}
			c := NewClient(Config{Username: role, Entra: true})
			if tc.claims {
				c.token.Store(&tokenInfo{claims: claims})
			}
			ca := c.explainLogin(pgErr)
			text := ca.what + "\n" + ca.advice
			says := append(slices.Clone(tc.says), fmt.Sprintf("the server refused the Entra token of %q (%s: %s)", role, tc.code, tc.msg),
				fmt.Sprintf("Either log in as the identity the role %q was created for", role))
			for _, s := range says {
				if !strings.Contains(text+"\n", s) {
					t.Errorf("the diagnosis lacks %q:\n%s", s, text)
				}
			}
			want := Fact{Topic: TopicTokenOtherIdentity, Role: role, TokenObjectID: tokOID, RoleKind: tc.kind}
			if !tc.claims && tc.kind == "user" { // that text names no identifier
				want.TokenObjectID = ""
			}
			if f := ca.fact; f.Topic != want.Topic || f.Role != want.Role || f.TokenObjectID != want.TokenObjectID || f.RoleKind != want.RoleKind {
				t.Errorf("fact %+v, want %+v", f, want)
			}
		})
	}
	if loginRefused(&pgconn.PgError{Code: "XX000", Message: "some other failure of role[x]"}) {
		t.Error("an unrelated XX000 is taken for a refused login")
	}
}
