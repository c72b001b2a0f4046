package pgaad

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// explain turns a failure to connect (or to get the token to connect with)
// into an *Error of kind ErrConnection that says what went wrong in words
// and what to do; other errors pass through unchanged.
func (c *Client) explain(err error, database string) error {
	if err == nil || errors.Is(err, ErrConnection) {
		return err
	}
	var credErr *entratoken.CredentialError
	var connErr *pgconn.ConnectError
	isConn, isCred := errors.As(err, &connErr), errors.As(err, &credErr) // both: a token fetched while dialling failed
	if !isConn && !isCred {
		return err
	}
	if database == "" {
		database = PrincipalsDatabase // roles live there
	}
	target := fmt.Sprintf("%s/%s", hostPort(c.cfg.Host, c.cfg.Port), database)
	var ca connAdvice
	var pgErr *pgconn.PgError
	var netErr net.Error
	var slots *slotsExhausted
	msg := err.Error()
	switch {
	case errors.As(err, &slots) && errors.As(err, &pgErr):
		ca.what = fmt.Sprintf("the server has no free connection slots (SQLSTATE 53300: %s); waited %s over %d attempts, the budget being connect_timeout = %s",
			pgErr.Message, slots.waited, slots.attempts, slots.budget)
		if slots.stopped != nil {
			ca.what += fmt.Sprintf(" (the wait was stopped: %v)", slots.stopped)
		}
		ca.advice, ca.fact = slotsAdvice, Fact{Topic: TopicNoSlots}
	case credErr != nil:
		ca = connAdvice{credErr.Error(), "The credential could not produce a token. Check which credential is used, the client id and tenant id " +
			"it is given, and that this machine has the identity (a managed identity exists only on Azure compute it is assigned to).",
			Fact{Topic: TopicCredential}}
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000") && strings.Contains(pgErr.Message, "no encryption"):
		ca = connAdvice{"the server accepts only TLS connections: " + pgErr.Message, "Connect with TLS (sslmode verify-full).",
			Fact{Topic: TopicTLSRequired}}
	case errors.As(err, &pgErr) && loginRefused(pgErr):
		ca = c.explainLogin(pgErr)
	case errors.As(err, &pgErr):
		ca.what = fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:") || strings.Contains(msg, "certificate"):
		ca = c.explainTLS(err)
	case strings.Contains(msg, "server refused TLS") || strings.Contains(msg, "server does not support SSL"):
		ca = connAdvice{"the server does not offer TLS", "sslmode disable is only for a local server without TLS; Azure always offers TLS.",
			Fact{Topic: TopicNoTLS}}
	case errors.Is(err, syscall.ECONNREFUSED):
		ca.what = "connection refused: nothing is listening there"
		ca.advice = "Check host and port (Azure flexible servers listen on 5432), and that the server is running."
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		ca.what = fmt.Sprintf("no answer within connect_timeout = %s", c.cfg.ConnectTimeout)
		ca.advice = "Check host and port, firewall rules and private networking (the server's firewall must allow this machine's address)."
	default:
		ca.what = rootCause(err)
		ca.advice = "Check host, port and network access to the server."
	}
	var unreachable *serverUnreachable
	if errors.As(err, &unreachable) {
		// A server reached before: a failover or a restart that lasted too long.
		ca.what += fmt.Sprintf("; the server answered earlier in this run, then was unreachable for the whole of the %s "+
			"allowed for an outage (%d attempts)", unreachable.bound, unreachable.attempts)
		ca.advice = fmt.Sprintf("The server went away during the run: a high-availability failover (60 to 120 s on Azure), a "+
			"restart for maintenance, or a stopped server, and it did not come back within %s. Check the server's state, then "+
			"run again; a longer outage bound waits longer.", unreachable.bound)
		ca.fact = Fact{Topic: TopicOutage}
	}
	// Terraform shows every resource's diagnostics: a server that cannot be
	// reached would print the same long explanation once per resource. The
	// first failure of this client (of this provider process, i.e. of this
	// command) is told in full; later ones in one line that points to it
	// and counts the operations blocked so far. A successful connection
	// starts the count again.
	if n := c.connFailures.Add(1); n > 1 {
		return &Error{Op: "connecting to", Object: Object{Type: ObjectServer, Name: target}, Kind: ErrConnection,
			Err: &reason{what: fmt.Sprintf("not done: %s (the same failure as the error told in full once in this command's output, "+
				"which says why and what to do; %d operations blocked by it so far)", ca.what, n), err: err}}
	}
	return &Error{Op: "connecting to", Object: Object{Type: ObjectServer, Name: target}, Kind: ErrConnection,
		Err: &reason{what: ca.what, err: err}, Advice: ca.advice, Fact: ca.fact}
}

// loginRefused: the server refused the login (a password or a token), by
// its SQLSTATE (28P01, 28000) or, for Azure's refusals of another
// identity's token, whose SQLSTATE is not documented, by its text.
func loginRefused(pgErr *pgconn.PgError) bool {
	return pgErr.Code == "28P01" || pgErr.Code == "28000" || otherIdentityRefusal(pgErr.Message) != 0
}

// connAdvice is what explain tells of a failure to connect: what went
// wrong, what to do (the Error's Advice, in database and Azure terms) and
// the situation as data (its Fact, for a front end's own words).
type connAdvice struct {
	what, advice string
	fact         Fact
}

// explainLogin says why the server refused the login (a password, or an
// Entra token) and what to check.
func (c *Client) explainLogin(pgErr *pgconn.PgError) connAdvice {
	if !c.cfg.Entra {
		return connAdvice{fmt.Sprintf("password authentication failed for %q (%s: %s)", c.cfg.Username, pgErr.Code, pgErr.Message),
			"Check the user name and the password.", Fact{Topic: TopicPasswordRefused}}
	}
	ca := c.diagnoseToken(pgErr.Message, time.Now())
	what := fmt.Sprintf("the server refused the Entra token of %q (%s: %s)", c.cfg.Username, pgErr.Code, pgErr.Message)
	if ca.what != "" {
		what += ": " + ca.what
	}
	ca.what = what
	if ca.advice == "" {
		ca.advice = "Check that:\n" +
			"- the user name is the principal's exact role name (case-sensitive): a user's UPN, or the display name of the group, service principal or managed identity;\n" +
			"- that principal exists on this server (an Entra admin of the server, or created with pgaadauth_create_principal);\n" +
			"- the token is for the server's tenant and cloud, and was issued to the identity you meant;\n" +
			"- the token has not expired: a token given as is (not fetched by a credential) is never refreshed;\n" +
			"- the role's Entra object was not deleted and recreated: the role keeps the old object id (relabel it, or create the principal again)."
		ca.fact = Fact{Topic: TopicLoginRefused}
	}
	return ca
}

// rootCause is the innermost message of a wrapped error chain.
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// AzureTLSRoots says which roots Azure's server certificates chain to,
// for advice about trusting them (the provider quotes it too).
const AzureTLSRoots = "Azure's certificates chain to DigiCert Global Root G2 or Microsoft RSA Root Certificate Authority 2017, and in the China regions " +
	"and on some read replicas still to DigiCert Global Root CA; the system trust store has all three. A custom sslrootcert must hold " +
	"every root the server may chain to (all three for Azure): trust the roots, never pin intermediates."

// explainTLS says why the server was not verified (or why TLS failed) and
// what to do. The handshake fails before the startup message, so no token
// or password was sent.
func (c *Client) explainTLS(err error) connAdvice {
	roots := "the system trust store"
	if c.cfg.SSLRootCert != "" && c.cfg.SSLRootCert != "system" {
		roots = "the roots in sslrootcert (" + c.cfg.SSLRootCert + ")"
	}
	const fix = "No token or password was sent. If the server's certificate comes from a private CA (or the emulator's), " +
		"trust that CA's root certificates: set sslrootcert (or PGSSLROOTCERT) to a PEM file that holds them; it replaces the system trust store. " +
		AzureTLSRoots
	const byName = "the server by its FQDN as it appears in its certificate (myserver.postgres.database.azure.com), " +
		"also through a private endpoint (resolve that name to the private address with private DNS), never by an IP address."
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostErr):
		return connAdvice{fmt.Sprintf("the server's certificate is not for the host name %q (sslmode = %s): %s", c.cfg.Host, c.cfg.SSLMode, hostErr.Error()),
			"No token or password was sent. Connect to " + byName, Fact{Topic: TopicCertHostName}}
	case errors.As(err, &unknown):
		return connAdvice{fmt.Sprintf("the server's certificate is signed by an unknown authority, not by %s (sslmode = %s): %s", roots, c.cfg.SSLMode, unknown.Error()),
			fix + " Something other than your server may be answering on this address. Connect to " + byName, Fact{Topic: TopicCertAuthority}}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return connAdvice{what: fmt.Sprintf("the server's certificate has expired or is not yet valid (sslmode = %s): %s", c.cfg.SSLMode, invalid.Error()),
			advice: "No token or password was sent. Check this machine's clock; a server that presents an expired certificate is not to be trusted with a token."}
	}
	return connAdvice{"TLS failed (sslmode = " + c.cfg.SSLMode + "): " + rootCause(err), fix + " For verify-full, connect to " + byName,
		Fact{Topic: TopicTLSFailed}}
}

// diagnoseToken says which cause of a refused token applies, from the
// server's words (Azure's texts differ per cause) and the claims of the
// token sent, decoded before connecting: expired, another audience (cloud),
// not a JWT, or another identity than the user name. Its what is "" when
// no cause is certain, its advice "" when the general checks apply.
func (c *Client) diagnoseToken(serverMsg string, now time.Time) connAdvice {
	info := c.token.Load()
	if kind := otherIdentityRefusal(serverMsg); kind != 0 {
		return c.diagnoseOtherIdentity(kind, serverMsg, info)
	}
	if info == nil {
		return connAdvice{}
	}
	msg := strings.ToLower(serverMsg)
	cl := info.claims
	cloud := c.cfg.Cloud
	if cloud == "" {
		cloud = "public"
	}
	want := ""
	if wc, err := entratoken.LookupCloud(cloud); err == nil {
		cloud, want = wc.Name, wc.Resource
	}
	const refreshed = "A token given as is (not fetched by a credential) is never refreshed: get a new one " +
		"(az account get-access-token --resource-type oss-rdbms), or let a credential fetch tokens."
	switch {
	case info.err != nil || strings.Contains(msg, "invalid format"):
		return connAdvice{"the password sent is not a JWT (an Entra access token is three base64url parts separated by dots)",
			TokenFormatAdvice + " " + refreshed, Fact{Topic: TopicTokenFormat}}
	case strings.Contains(msg, "expired") || (!cl.ExpiresAt.IsZero() && !now.Before(cl.ExpiresAt)):
		if cl.ExpiresAt.IsZero() {
			return connAdvice{"the token has expired", refreshed, Fact{Topic: TopicTokenExpired}}
		}
		return connAdvice{fmt.Sprintf("the token expired at %s (%s ago)", cl.ExpiresAt.Format(time.RFC3339), now.Sub(cl.ExpiresAt).Round(time.Second)),
			refreshed + " Check this machine's clock too.", Fact{Topic: TopicTokenExpired, ExpiresAt: cl.ExpiresAt}}
	case strings.Contains(msg, "audience") || (want != "" && cl.Audience != "" && !strings.EqualFold(strings.TrimSuffix(cl.Audience, "/"), want)):
		other := entratoken.CloudOfResource(cl.Audience)
		what := fmt.Sprintf("the token is for the audience %q; the configured cloud %q takes tokens for %q", cl.Audience, cloud, want)
		if other != "" && other != cloud {
			what += fmt.Sprintf(" (%q is the audience of cloud %q)", cl.Audience, other)
			return connAdvice{what, fmt.Sprintf("If the server is in cloud %q, configure that cloud; otherwise get a token for %s/.default.", other, want),
				Fact{Topic: TopicTokenCloud, Cloud: other, Resource: want}}
		}
		return connAdvice{what: what, advice: fmt.Sprintf("Get a token for the resource %s (scope %s/.default), e.g. az account get-access-token --resource-type oss-rdbms; "+
			"a token for another service (such as Azure Resource Manager) cannot log in to PostgreSQL.", want, want)}
	case !cl.NotBefore.IsZero() && now.Before(cl.NotBefore):
		return connAdvice{what: fmt.Sprintf("the token is not valid before %s", cl.NotBefore.Format(time.RFC3339)), advice: "Check this machine's clock."}
	case cl.ObjectID != "":
		// The general checks follow (explainLogin): the role may not exist at all.
		return connAdvice{what: fmt.Sprintf("the token is for %s; the user name %q must be the role of that identity", tokenIdentity(cl), c.cfg.Username)}
	}
	return connAdvice{}
}

// tokenIdentity names who a token was issued to, from its claims.
func tokenIdentity(cl entratoken.Claims) string {
	who := "object " + cl.ObjectID
	var extra []string
	if cl.AppID != "" {
		extra = append(extra, "appid "+cl.AppID)
	}
	if cl.UPN != "" {
		extra = append(extra, "upn "+cl.UPN)
	}
	if cl.TenantID != "" {
		extra = append(extra, "tenant "+cl.TenantID)
	}
	if len(extra) > 0 {
		who += " (" + strings.Join(extra, ", ") + ")"
	}
	return who
}

// otherIdentityKind is which of Azure's refusals of another identity's
// token the server answered.
type otherIdentityKind int

const (
	// appTokenForUser: a service principal's or managed identity's token
	// for a role created for a user.
	appTokenForUser otherIdentityKind = iota + 1
	// servicePrincipalMismatch: a service principal's or managed identity's
	// token for a role created for another one.
	servicePrincipalMismatch
)

// otherIdentityRefusal recognises Azure's refusals of another identity's
// token by their text (0: neither). Their SQLSTATE is not documented (the
// emulator answers 28P01, a GUESS), so the text decides, whatever the code.
// Public threads quote them (MicrosoftDocs/azure-docs#120133):
// "Service Principals cannot generate AAD_AUTH_TOKENTYPE_APP_USER tokens
// for role ..." and "Service principal oid mismatch for role ... does not
// match the appid ... or oid ... in the token" (quoted only in part; the
// emulator's words between are a GUESS). Only the quoted words are relied
// on, case-insensitively.
func otherIdentityRefusal(msg string) otherIdentityKind {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "aad_auth_tokentype_app_user"):
		return appTokenForUser
	case strings.Contains(m, "service principal oid mismatch"):
		return servicePrincipalMismatch
	}
	return 0
}

// Identifiers in the oid-mismatch text: "... does not match the appid <a>
// or oid <o> in the token", and, in the emulator's words (GUESS), "the
// role's object id <r>".
var (
	mismatchTokenIDs = regexp.MustCompile(`(?i)appid\s+([0-9a-f-]{36})\s+or\s+oid\s+([0-9a-f-]{36})`)
	mismatchRoleID   = regexp.MustCompile(`(?i)role's object id\s+([0-9a-f-]{36})`)
)

// diagnoseOtherIdentity says whose token the server refused and for which
// role, and the two ways out: log in as the identity the role was made
// for, or use the role of the token's identity.
func (c *Client) diagnoseOtherIdentity(kind otherIdentityKind, serverMsg string, info *tokenInfo) connAdvice {
	f := Fact{Topic: TopicTokenOtherIdentity, Role: c.cfg.Username}
	who := ""
	if info != nil && info.err == nil && info.claims.ObjectID != "" {
		who, f.TokenObjectID = tokenIdentity(info.claims), info.claims.ObjectID
	} else if m := mismatchTokenIDs.FindStringSubmatch(serverMsg); m != nil {
		who, f.TokenObjectID = fmt.Sprintf("object %s (appid %s)", m[2], m[1]), m[2]
	}
	if who == "" {
		who = "a service principal or managed identity"
	} else {
		who = "the service principal or managed identity " + who
	}
	var role string
	switch kind {
	case appTokenForUser:
		f.RoleKind = "user"
		role = fmt.Sprintf("the role %q was created for a user, whose own token alone logs in as it", c.cfg.Username)
	default:
		f.RoleKind = "service"
		role = fmt.Sprintf("the role %q was created for another service principal or managed identity", c.cfg.Username)
		if m := mismatchRoleID.FindStringSubmatch(serverMsg); m != nil {
			role += " (object " + m[1] + ")"
		}
	}
	what := fmt.Sprintf("the token is of %s, but %s", who, role)
	target := "the token's identity"
	if f.TokenObjectID != "" {
		target += " (object " + f.TokenObjectID + ")"
	}
	advice := fmt.Sprintf("Either log in as the identity the role %q was created for (for a user: a token of that user, e.g. from az login as "+
		"that user; for a managed identity or service principal: its client id and credential), or log in with the user name of the role "+
		"created for %s. If it has none, an Entra admin of the server creates it with pgaadauth_create_principal_with_oid.", c.cfg.Username, target)
	return connAdvice{what, advice, f}
}

// TokenFormatAdvice is how to pass a token that was not a JWT (the
// provider quotes it too).
const TokenFormatAdvice = "Pass the access token exactly as the authentication endpoint returned it: no quotes, braces, \"Bearer \" prefix or line " +
	"breaks, and not the JSON around it (az account get-access-token --query accessToken -o tsv)."
