package entratoken

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are what a client may read from an Entra access token without
// verifying it (the server verifies; the client reads only to explain a
// refusal). Never a secret: the token's signature is not kept.
type Claims struct {
	Audience  string
	TenantID  string
	ObjectID  string
	AppID     string // appid (v1 tokens) or azp (v2)
	UPN       string // upn, or preferred_username, or unique_name
	ExpiresAt time.Time
	NotBefore time.Time
}

// ErrNotJWT: the string does not have the shape of a JWT (three base64url
// parts whose second one is a JSON object).
var ErrNotJWT = errors.New("not a JWT")

// DecodeClaims reads a JWT's payload without checking its signature. It
// fails with ErrNotJWT for anything that is not header.payload.signature
// with a JSON payload.
func DecodeClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return Claims{}, ErrNotJWT
	}
	var header map[string]any
	if h, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "=")); err != nil || json.Unmarshal(h, &header) != nil {
		return Claims{}, ErrNotJWT
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, ErrNotJWT
	}
	var c struct {
		Aud               json.RawMessage `json:"aud"`
		Tid               string          `json:"tid"`
		Oid               string          `json:"oid"`
		AppID             string          `json:"appid"`
		Azp               string          `json:"azp"`
		UPN               string          `json:"upn"`
		PreferredUsername string          `json:"preferred_username"`
		UniqueName        string          `json:"unique_name"`
		Exp               json.Number     `json:"exp"`
		Nbf               json.Number     `json:"nbf"`
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return Claims{}, ErrNotJWT
	}
	out := Claims{TenantID: c.Tid, ObjectID: c.Oid, AppID: first(c.AppID, c.Azp),
		UPN: first(c.UPN, first(c.PreferredUsername, c.UniqueName))}
	// aud is a string, or (rarely) an array of strings.
	var aud string
	var auds []string
	switch {
	case json.Unmarshal(c.Aud, &aud) == nil:
		out.Audience = aud
	case json.Unmarshal(c.Aud, &auds) == nil && len(auds) > 0:
		out.Audience = strings.Join(auds, " ")
	}
	out.ExpiresAt = unixTime(c.Exp)
	out.NotBefore = unixTime(c.Nbf)
	return out, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func unixTime(n json.Number) time.Time {
	if f, err := n.Float64(); err == nil && f > 0 {
		return time.Unix(int64(f), 0).UTC()
	}
	return time.Time{}
}

// CloudOfResource names the cloud whose PostgreSQL Entra resource aud is
// (a trailing slash or "/.default" ignored), or "" for none of them.
func CloudOfResource(aud string) string {
	aud = strings.TrimSuffix(strings.TrimSuffix(aud, "/.default"), "/")
	for name, c := range clouds {
		if strings.EqualFold(aud, c.Resource) {
			return name
		}
	}
	return ""
}
