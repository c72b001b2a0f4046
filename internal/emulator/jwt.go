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
	// Appid is the client id of a service principal's or managed
	// identity's token; empty in a user's token (the emulator's tokens).
	Appid string `json:"appid"`
}

// errNotJWT: the password does not have the shape of a token at all.
var errNotJWT = errors.New("not a JWT")

// Azure's texts for a refused token, as public issue threads quote them from
// flexible servers (FATAL, in the client's error). Microsoft documents neither
// the texts nor their SQLSTATE.
const (
	// darold/ora2pg#1851.
	msgTokenExpired = "The access token has expired. Please acquire a new token and retry."
	// microsoft/azuredatastudio-postgresql#505 (and MicrosoftDocs/azure-docs#123030,
	// where a Cosmos DB server names its own resource). GUESS: the server
	// names its own cloud's resource; the emulator, which accepts all three
	// clouds' audiences, names the public cloud's. TestLiveLoginWrongAudience would settle it.
	msgTokenAudience = `The access token does not have a valid audience claim. Please acquire a new token for the resource "%s".`
	// Azure-Samples/rag-postgres-openai-python#161 (a token wrapped in braces).
	msgTokenFormat = "The access token has invalid format. Please ensure the token is passed exactly as returned by the authentication endpoint and retry."
	// cyrilgdn/terraform-provider-postgresql#60. GUESS: that Azure answers
	// this for a bad signature, another tenant, a token not yet valid or one
	// without an object id; TestLiveLoginInvalidToken would settle it.
	msgTokenInvalid = "An error occurred while validating the access token. Please acquire a new token and retry."
	// A service principal's or managed identity's token for a role
	// labelled as a user: MicrosoftDocs/azure-docs#120133 quotes it, the
	// role name in brackets.
	msgTokenAppForUser = "Service Principals cannot generate AAD_AUTH_TOKENTYPE_APP_USER tokens for role[%s]"
	// A service principal's or managed identity's token for a role labelled
	// with another service principal's object id. GUESS: public threads
	// quote it only in part ("Service principal oid mismatch for role ...
	// does not match the appid ... or oid ... in the token"); the emulator
	// fills the gaps in the same words. TestLiveLoginOtherIdentity would
	// settle it.
	msgTokenAppOidMismatch = "Service principal oid mismatch for role[%s]: the role's object id %s does not match the appid %s or oid %s in the token"
	// GUESS: no public thread quotes Azure's text for a user's valid token
	// whose object id is not the role's (a deleted and recreated user, or
	// another user's token); the emulator answers as PostgreSQL does to a
	// wrong password. TestLiveLoginOtherIdentity would settle it.
	msgTokenObjectID = `password authentication failed for user "%s"`
	// GUESS: the SQLSTATE of every refusal above (PostgreSQL's
	// invalid_password); TestLiveLoginRefusals would settle it.
	refusalSQLState = "28P01"
)

// publicResource is the audience of tokens for servers in Azure's public cloud.
const publicResource = "https://ossrdbms-aad.database.windows.net"

// refusal is why a token is refused: reason for the server log, client for
// the client (Azure's text).
type refusal struct {
	reason string
	client string
}

func (r *refusal) Error() string { return r.reason }

func refuse(client, format string, args ...any) *refusal {
	return &refusal{reason: fmt.Sprintf(format, args...), client: client}
}

// signJWT returns header.claims.signature with an HMAC-SHA256 signature
// under the key of the emulator's cloud: a token only this emulator, or
// one of the same cloud (Options.SameCloudAs), can have issued.
func (e *Emulator) signJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256", "kid": e.cloud.tokenKeyID})
	body, _ := json.Marshal(claims)
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(body)
	return signed + "." + enc.EncodeToString(e.jwtMAC(signed))
}

func (e *Emulator) jwtMAC(signed string) []byte {
	h := hmac.New(sha256.New, e.cloud.tokenKey)
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
		return tokenClaims{}, refuse(msgTokenInvalid, "the token's signature is not valid (not issued by this server's tenant)")
	}
	var c tokenClaims
	raw, err = enc.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return tokenClaims{}, refuse(msgTokenFormat, "the token's claims cannot be read")
	}
	switch {
	case now.Unix() >= c.Exp:
		return c, refuse(msgTokenExpired, "the token expired at %s", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	case now.Unix() < c.Nbf:
		return c, refuse(msgTokenInvalid, "the token is not valid before %s", time.Unix(c.Nbf, 0).UTC().Format(time.RFC3339))
	case !knownResources[c.Aud]:
		return c, refuse(fmt.Sprintf(msgTokenAudience, publicResource),
			"the token's audience %q is not Azure Database for PostgreSQL", c.Aud)
	case !strings.EqualFold(c.Tid, e.cloud.tenantID):
		return c, refuse(msgTokenInvalid, "the token is for tenant %s, not the server's tenant", c.Tid)
	case c.Oid == "":
		return c, refuse(msgTokenInvalid, "the token names no object id")
	}
	return c, nil
}
