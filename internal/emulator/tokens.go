package emulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Resources of the three clouds' PostgreSQL Entra login.
var knownResources = map[string]bool{
	"https://ossrdbms-aad.database.windows.net":       true,
	"https://ossrdbms-aad.database.chinacloudapi.cn":  true,
	"https://ossrdbms-aad.database.usgovcloudapi.net": true,
}

// Token is an access token issued by the fake endpoint.
type Token struct {
	Value     string
	ExpiresOn time.Time
	Resource  string
	ClientID  string
}

type tokenKey struct{ resource, objectID string }

// RequestKey identifies what the fake endpoint counts: a resource and the
// client_id it was asked for ("" for the default identity).
type RequestKey struct{ Resource, ClientID string }

// tokenServer speaks the App Service managed-identity protocol that
// azidentity's ManagedIdentityCredential uses when IDENTITY_ENDPOINT and
// IDENTITY_HEADER are set.
type tokenServer struct {
	e        *Emulator
	header   string
	listener net.Listener
	srv      *http.Server

	mu        sync.Mutex
	issued    map[tokenKey]Token
	requests  map[RequestKey]int
	lifetimes map[string]time.Duration // by client id; "" is the default
	// lastExpiry is, by object id (lower case), when the last to expire of
	// the tokens issued to the identity expires (RevokeTokens keeps it).
	lastExpiry map[string]time.Time
}

func startTokenServer(e *Emulator) (*tokenServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ts := &tokenServer{
		e:         e,
		header:    randomString(24),
		listener:  l,
		issued:    map[tokenKey]Token{},
		requests:  map[RequestKey]int{},
		lifetimes: map[string]time.Duration{"": e.opts.TokenLifetime},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/msi/token", ts.serveAppService)
	ts.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ts.srv.Serve(l) }()
	return ts, nil
}

func (ts *tokenServer) endpoint() string {
	return "http://" + ts.listener.Addr().String() + "/msi/token"
}

func (ts *tokenServer) close() { _ = ts.srv.Close() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (ts *tokenServer) serveAppService(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	resource := strings.TrimSuffix(q.Get("resource"), "/.default")
	clientID := q.Get("client_id")
	ts.mu.Lock()
	ts.requests[RequestKey{resource, clientID}]++
	ts.mu.Unlock()

	if r.Header.Get("X-IDENTITY-HEADER") != ts.header {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "missing or wrong X-IDENTITY-HEADER"})
		return
	}
	if !knownResources[resource] {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_resource",
			"error_description": fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant", resource)})
		return
	}
	tok, err := ts.issue(r.Context(), resource, clientID)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok.Value,
		"expires_on":   strconv.FormatInt(tok.ExpiresOn.Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    tok.ClientID,
	})
}

// issue returns the identity's current token for the resource while it has
// more than half of its lifetime left (as Azure's endpoints cache tokens),
// otherwise a new one. With TokenLoginPassword the new token becomes the
// password of the identity's roles and so replaces the previous one; behind
// the front door every unexpired token logs in, as on Azure.
func (ts *tokenServer) issue(ctx context.Context, resource, clientID string) (Token, error) {
	id, ok := ts.e.identity(clientID)
	if !ok {
		return Token{}, fmt.Errorf("no managed identity with client_id %q is assigned to this resource", clientID)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	lifetime, ok := ts.lifetimes[clientID]
	if !ok {
		lifetime = ts.lifetimes[""]
	}
	key := tokenKey{resource, id.ObjectID}
	passwords := ts.e.mode == TokenLoginPassword
	if t, ok := ts.issued[key]; ok && time.Until(t.ExpiresOn) > lifetime/2 {
		// Roles labelled with the identity since the token was issued (a
		// principal created after the identity fetched its token) get it too.
		if passwords {
			if err := ts.e.setTokenPassword(ctx, id.ObjectID, t, true); err != nil {
				return Token{}, err
			}
		}
		return t, nil
	}
	now := time.Now()
	t := Token{
		Value:     ts.e.mintJWT(id, resource, now, lifetime),
		ExpiresOn: now.Add(lifetime).Truncate(time.Second),
		Resource:  resource,
		ClientID:  id.ClientID,
	}
	if passwords {
		if err := ts.e.setTokenPassword(ctx, id.ObjectID, t, false); err != nil {
			return Token{}, err
		}
	}
	ts.issued[key] = t
	if ts.lastExpiry == nil {
		ts.lastExpiry = map[string]time.Time{}
	}
	if oid := strings.ToLower(id.ObjectID); t.ExpiresOn.After(ts.lastExpiry[oid]) {
		ts.lastExpiry[oid] = t.ExpiresOn
	}
	return t, nil
}

// mintJWT makes a token shaped like Entra's (header.claims.signature) whose
// claims name the identity, the tenant and the audience, signed with the
// emulator's key: the front door verifies it (TokenLoginPassword only
// compares it with the role's password).
func (e *Emulator) mintJWT(id Object, resource string, now time.Time, lifetime time.Duration) string {
	return e.signJWT(map[string]any{
		"aud": resource, "iss": "https://sts.windows.net/" + e.cloud.tenantID + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(lifetime).Unix(),
		"oid": id.ObjectID, "tid": e.cloud.tenantID, "appid": id.ClientID, "name": id.Name,
		"jti": randomString(16),
	})
}

// setTokenPassword makes the token the password, valid until its expiry, of
// every role labelled with the identity's object id (with onlyMissing, of
// those whose password does not expire when the token does: roles that have
// not received it yet).
func (e *Emulator) setTokenPassword(ctx context.Context, objectID string, t Token, onlyMissing bool) error {
	rows, err := e.super.Query(ctx, `SELECT DISTINCT r.rolname FROM pg_roles r
		JOIN pg_shseclabel s ON s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass
		WHERE s.provider IN ('pgaadauth', 'pgaadauth-int') AND lower(s.label) ~ ('(^|,)oid=' || lower($1) || '(,|$)')
		  AND (NOT $2 OR r.rolvaliduntil IS DISTINCT FROM $3)`, objectID, onlyMissing, t.ExpiresOn)
	if err != nil {
		return err
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, role := range roles {
		verifier, err := scramVerifier(t.Value)
		if err != nil {
			return err
		}
		// ALTER ROLE takes no bind parameters; both values are quoted literals we built.
		sql := fmt.Sprintf("ALTER ROLE %s PASSWORD %s VALID UNTIL %s",
			pgx.Identifier{role}.Sanitize(), quoteLiteral(verifier), quoteLiteral(t.ExpiresOn.UTC().Format(time.RFC3339)))
		if _, err := e.super.Exec(ctx, sql); err != nil {
			return fmt.Errorf("setting the token of %q: %w", role, err)
		}
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// TokenRequests is how many times the fake endpoint was asked for a token
// for the resource and client id ("" for the default identity).
func (e *Emulator) TokenRequests(resource, clientID string) int {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	return e.tokens.requests[RequestKey{strings.TrimSuffix(resource, "/.default"), clientID}]
}

// TokenRequestsFor sums the requests for a client id over all resources.
func (e *Emulator) TokenRequestsFor(clientID string) int {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	n := 0
	for k, v := range e.tokens.requests {
		if k.ClientID == clientID {
			n += v
		}
	}
	return n
}

// SetTokenLifetime sets the lifetime of tokens issued from now on for a
// client id ("" sets the default for all identities without their own).
func (e *Emulator) SetTokenLifetime(clientID string, d time.Duration) {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	e.tokens.lifetimes[clientID] = d
}

// IssueToken issues a token as the endpoint would (without counting a
// request): for a fake `az`, or to log in by hand in a test.
func (e *Emulator) IssueToken(ctx context.Context, resource, clientID string) (Token, error) {
	return e.tokens.issue(ctx, strings.TrimSuffix(resource, "/.default"), clientID)
}

// LastTokenExpiry is when the last to expire of the tokens issued so far to
// the identity with this client id ("" for the default identity) expires,
// whatever their resource and RevokeTokens: from then on none of them logs
// in (the front door refuses a token once time.Now() reaches its
// ExpiresOn). The zero time when none was issued. For tests that wait for
// every token of an identity to expire for real.
func (e *Emulator) LastTokenExpiry(clientID string) time.Time {
	id, ok := e.identity(clientID)
	if !ok {
		return time.Time{}
	}
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	return e.tokens.lastExpiry[strings.ToLower(id.ObjectID)]
}

// RevokeTokens forgets every issued token, so the next request mints new ones.
func (e *Emulator) RevokeTokens() {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	e.tokens.issued = map[tokenKey]Token{}
}
