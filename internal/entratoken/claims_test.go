package entratoken

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestDecodeClaims(t *testing.T) {
	c, err := DecodeClaims(jwt(`{"aud":"https://ossrdbms-aad.database.windows.net","tid":"t1","oid":"o1","appid":"a1",` +
		`"upn":"alice@contoso.com","exp":1700000000,"nbf":1699990000}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Audience: "https://ossrdbms-aad.database.windows.net", TenantID: "t1", ObjectID: "o1", AppID: "a1",
		UPN: "alice@contoso.com", ExpiresAt: time.Unix(1700000000, 0).UTC(), NotBefore: time.Unix(1699990000, 0).UTC()}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	// v2 names, and aud as an array.
	c, err = DecodeClaims(jwt(`{"aud":["x","y"],"azp":"a2","preferred_username":"bob@contoso.com"}`))
	if err != nil || c.Audience != "x y" || c.AppID != "a2" || c.UPN != "bob@contoso.com" || !c.ExpiresAt.IsZero() {
		t.Fatalf("got %+v, %v", c, err)
	}
	for _, bad := range []string{"", "not-a-token", "{" + jwt(`{}`) + "}", "a.b", "a..c", jwt(`not json`), jwt(`[1]`), "a.!!!.c"} {
		if _, err := DecodeClaims(bad); !errors.Is(err, ErrNotJWT) {
			t.Errorf("DecodeClaims(%q): %v, want ErrNotJWT", bad, err)
		}
	}
}

func TestCloudOfResource(t *testing.T) {
	for aud, want := range map[string]string{
		"https://ossrdbms-aad.database.windows.net":                "public",
		"https://ossrdbms-aad.database.chinacloudapi.cn/":          "china",
		"https://ossrdbms-aad.database.usgovcloudapi.net/.default": "usgovernment",
		"https://management.azure.com":                             "",
	} {
		if got := CloudOfResource(aud); got != want {
			t.Errorf("CloudOfResource(%q) = %q, want %q", aud, got, want)
		}
	}
}
