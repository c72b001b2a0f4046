package pgaad

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

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
