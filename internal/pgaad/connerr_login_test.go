package pgaad

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// TestLoginDiagnoseCloud: a token for another cloud's audience names that
// cloud and the cloud setting (the emulator accepts every cloud's audience,
// so the provider test cannot reach this branch).
func TestLoginDiagnoseCloud(t *testing.T) {
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." +
		enc.EncodeToString([]byte(`{"aud":"https://ossrdbms-aad.database.chinacloudapi.cn","oid":"o1","exp":4102444800}`)) + ".c2ln"
	c := NewClient(Config{Username: "alice@contoso.com", Entra: true, Cloud: "AzureCloud"})
	claims, err := entratoken.DecodeClaims(tok)
	c.token.Store(&tokenInfo{claims: claims, err: err})
	why, advice := c.diagnoseToken("The access token does not have a valid audience claim.", time.Now())
	for _, want := range []string{`cloud = "public"`, `"https://ossrdbms-aad.database.chinacloudapi.cn" is the audience of cloud "china"`} {
		if !strings.Contains(why, want) {
			t.Errorf("diagnosis %q lacks %q", why, want)
		}
	}
	if !strings.Contains(advice, `Set the provider's cloud to "china"`) {
		t.Errorf("advice %q does not name the cloud setting", advice)
	}
}
