package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// tokenClaims are the claims of an issued token that a login checks.
type tokenClaims struct {
	Aud string `json:"aud"`
	Iss string `json:"iss"`
	Iat int64  `json:"iat"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
	Oid string `json:"oid"`
	Tid string `json:"tid"`
}

// errNotJWT: the password does not have the shape of a token at all.
var errNotJWT = errors.New("not a JWT")

// signJWT returns header.claims.signature with an HMAC-SHA256 signature
// under the emulator's key: a token only this emulator can have issued.
func (e *Emulator) signJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256", "kid": e.tokenKeyID})
	body, _ := json.Marshal(claims)
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(body)
	return signed + "." + enc.EncodeToString(e.jwtMAC(signed))
}

func (e *Emulator) jwtMAC(signed string) []byte {
	h := hmac.New(sha256.New, e.tokenKey)
	h.Write([]byte(signed))
	return h.Sum(nil)
}

// verifyJWT checks a token as Azure checks the password of an Entra login:
// signed by the issuer, within its validity, for a PostgreSQL resource of
// one of the clouds and issued by this server's tenant. It returns the
// claims, or why the token is refused (for the server log, never for the client).
func (e *Emulator) verifyJWT(token string, now time.Time) (tokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenClaims{}, errNotJWT
	}
	enc := base64.RawURLEncoding
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return tokenClaims{}, errNotJWT
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	raw, err := enc.DecodeString(parts[0])
	if err != nil || json.Unmarshal(raw, &header) != nil || header.Alg == "" {
		return tokenClaims{}, errNotJWT
	}
	if header.Alg != "HS256" || !hmac.Equal(sig, e.jwtMAC(parts[0]+"."+parts[1])) {
		return tokenClaims{}, errors.New("the token's signature is not valid (not issued by this server's tenant)")
	}
	var c tokenClaims
	raw, err = enc.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return tokenClaims{}, errors.New("the token's claims cannot be read")
	}
	switch {
	case now.Unix() >= c.Exp:
		return c, fmt.Errorf("the token expired at %s", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	case now.Unix() < c.Nbf:
		return c, fmt.Errorf("the token is not valid before %s", time.Unix(c.Nbf, 0).UTC().Format(time.RFC3339))
	case !knownResources[c.Aud]:
		return c, fmt.Errorf("the token's audience %q is not Azure Database for PostgreSQL", c.Aud)
	case !strings.EqualFold(c.Tid, e.tenant.TenantID):
		return c, fmt.Errorf("the token is for tenant %s, not the server's tenant", c.Tid)
	case c.Oid == "":
		return c, errors.New("the token names no object id")
	}
	return c, nil
}
