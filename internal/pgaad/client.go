// Package pgaad is the database side of the provider: connections to Azure
// Database for PostgreSQL (one pool per database), Entra principals, access
// (grants, default privileges, role memberships), extensions and azure_ai
// settings, and the actions' statements. It knows nothing of Terraform.
package pgaad

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// PrincipalsDatabase is where Azure keeps the pgaadauth functions.
const PrincipalsDatabase = "postgres"

// Config says where and how to connect.
type Config struct {
	Host     string
	Port     int
	Username string
	SSLMode  string
	// SSLRootCert is the file of the PEM roots to trust for verify-ca and
	// verify-full (and require, which then checks the chain, as in libpq).
	// It replaces the system trust store; "system" names the system trust
	// store (and makes pgx use verify-full); "" is the system trust store
	// for verify-full, unless PGSSLROOTCERT is set in the process's
	// environment (pgx reads it), which the provider resolves into this
	// field itself.
	SSLRootCert    string
	ConnectTimeout time.Duration
	// OutageTimeout bounds how long a server that went away (a failover, a
	// restart) is waited for (outage.go); 0 is DefaultOutageTimeout.
	OutageTimeout   time.Duration
	MaxConns        int32
	ApplicationName string
	// Password is asked for the password of every new connection.
	Password func(ctx context.Context) (string, error)
	// Entra is true when the password is an Entra token (for error messages).
	Entra bool
	// Cloud is the provider's cloud setting (public, china, usgovernment),
	// to explain a token for another cloud's audience.
	Cloud string
	// Log, when set, is told of the client's decisions (a pool opened, a
	// retry and why, a lost COMMIT checked) with fields that never hold a
	// secret. The provider wires it to tflog.
	Log func(ctx context.Context, msg string, fields map[string]any)
}

// log passes a decision to Config.Log, if any.
func (c *Client) log(ctx context.Context, msg string, fields map[string]any) {
	if c.cfg.Log != nil {
		c.cfg.Log(ctx, msg, fields)
	}
}

// Client holds one pool per database. Pools are created on first use:
// no connection and no token before something needs one.
type Client struct {
	cfg   Config
	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
	limit *connLimit // MaxConns across all the pools (connlimit.go)
	// comb holds the segment writes queued for a connection and the carriers
	// in flight they may join (combine.go, carrier.go).
	comb combiner
	// snap holds the refresh snapshots (snapshot.go).
	snap snapshots
	// token is what the last token sent to the server says about itself,
	// decoded (never verified) before connecting, to explain a refusal.
	token atomic.Pointer[tokenInfo]
	// connFailures counts the failures to connect explained so far: the
	// first is told in full, the others in one line (see explain).
	connFailures atomic.Int64
	// major is the server's major version once read (ServerMajor).
	major atomic.Int32
	// reached: a connection to the server opened once; outageSince: when
	// the current outage began (Unix ns; 0: none) (outage.go).
	reached     atomic.Bool
	outageSince atomic.Int64
	// tokenWaitLimit is tokenWaitLimit and tokenNow time.Now, but for
	// tests, which also learn from tokenWaiting when a connection starts
	// waiting for its token.
	tokenWaitLimit time.Duration
	tokenNow       func() time.Time
	tokenWaiting   func()
}

// tokenInfo is a token's claims, or why it has none (ErrNotJWT).
type tokenInfo struct {
	claims entratoken.Claims
	err    error
}

// Defaults of Config, applied by NewClient; the provider documents them.
const (
	DefaultPort = 5432
	// DefaultMaxConns is the default of the provider's max_connections,
	// per server (across all its databases). Terraform runs up to 10
	// operations at once (-parallelism); the ones past 4 wait for a
	// connection, and the writes among them leave together in one round
	// trip when one frees up (combine.go). A refresh is one statement
	// (snapshot.go).
	// On a Burstable B1ms server (50 connections, 35 for users) a command
	// uses at most 4 of the 35.
	DefaultMaxConns = 4
)

// NewClient returns a client; it connects to nothing yet.
func NewClient(cfg Config) *Client {
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	c := &Client{cfg: cfg, pools: map[string]*pgxpool.Pool{}, tokenWaitLimit: tokenWaitLimit, tokenNow: time.Now}
	c.limit = newConnLimit(cfg.MaxConns, c.poolsSnapshot)
	return c
}

// ServerMajor is the server's PostgreSQL major version (15, 16, ...): read
// once, from what the server reports at log-in (server_version), then
// remembered; no statement, no round trip on a connection already open.
func (c *Client) ServerMajor(ctx context.Context) (int, error) {
	if v := c.major.Load(); v > 0 {
		return int(v), nil
	}
	const op = "reading the server's version"
	v, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (int, error) {
		if conn, ok := q.(*pgx.Conn); ok {
			if v := serverMajor(conn.PgConn()); v > 0 {
				return v, nil
			}
		}
		var num int
		err := q.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num)
		return num / 10000, err
	})
	if err != nil {
		return 0, c.classify(op, Object{}, err, nil)
	}
	c.major.Store(int32(v))
	return v, nil
}

// Config returns the client's configuration (after NewClient's defaults).
func (c *Client) Config() Config { return c.cfg }

// Pool returns the pool for a database.
func (c *Client) Pool(ctx context.Context, database string) (*pgxpool.Pool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pools[database]; ok {
		return p, nil
	}
	pcfg, err := pgxpool.ParseConfig(c.connString(database))
	if err != nil {
		return nil, fmt.Errorf("connection settings for database %q: %w", database, err)
	}
	pcfg.MaxConns = c.cfg.MaxConns
	pcfg.MinConns = 0
	// One round trip per statement, also the first time a connection runs
	// it: pgx's default (QueryExecModeCacheStatement) prepares a
	// statement on its first run on each connection, a round trip of its
	// own before the one that runs it. The provider's reads are catalog
	// queries that a connection runs a few times at most (a refresh: one
	// snapshot query), so a plan cached by the server saves nothing worth
	// a round trip. Arguments go as text with no type (the server infers
	// it from the SQL, as from a literal) and rows come back as text.
	pcfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	pcfg.MaxConnIdleTime = time.Minute
	c.limit.limitPool(pcfg, database)
	pcfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		if c.cfg.Password != nil {
			c.passwordWhileDialling(ctx, cc)
		}
		return nil
	}
	pcfg.AfterConnect = func(context.Context, *pgx.Conn) error {
		c.connFailures.Store(0) // the server is reachable again: tell the next failure in full
		return nil
	}
	// After a lost connection, ping every connection the pool hands out for
	// a while (see suspectPool), not only those idle for over a second.
	suspect := new(atomic.Int64)
	pcfg.ShouldPing = func(_ context.Context, sp pgxpool.ShouldPingParams) bool {
		return sp.IdleDuration > time.Second || time.Now().UnixNano() < suspect.Load()
	}
	p, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, err
	}
	suspects.Store(p, suspect)
	c.pools[database] = p
	c.log(ctx, "pgaad: pool opened", map[string]any{"database": database, "host": c.cfg.Host,
		"port": c.cfg.Port, "username": c.cfg.Username, "max_connections": c.cfg.MaxConns})
	return p, nil
}

// passwordWhileDialling fetches the connection's password (the Entra
// token) while pgconn dials the server and the TLS handshake is made, and
// hands it over once TLS is up, before the startup message, where pgconn
// reads it. A token that a credential must fetch (the first of a command,
// or one near its expiry) costs its own round trips to Entra, or an Azure
// CLI process: from a runner far from the server they now overlap the
// connection's first three round trips (TCP, SSLRequest, TLS) instead of
// coming before them. A cached token comes back at once, as before.
//
// What does not change: the password is still sent only after verify-full
// TLS checked the server. A failed token fails the connection with the
// credential's error (the connection just opened is closed); outageOf never
// takes it for an outage. The wait for the token is bounded by the
// connection's context (connect_timeout), as the fetch was.
//
// A server drops a connection that sends no startup message within
// authentication_timeout (PostgreSQL's default is 60 s; GUESS: that Azure
// keeps it, Learn does not say). A connection that waited longer than
// tokenWaitLimit for its token (an identity endpoint that throttles) is
// therefore not used: poolAcquire connects again at once, with the token
// then at hand.
func (c *Client) passwordWhileDialling(ctx context.Context, cc *pgx.ConnConfig) {
	// The fetch ends on its own even if the dial fails. Its result is read
	// by every attempt of the connection: pgconn tries the host's next
	// address after some failures of a log-in (53300, 28000).
	var pw string
	var tokenErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw, tokenErr = c.cfg.Password(ctx)
		if tokenErr == nil && c.cfg.Entra {
			claims, cerr := entratoken.DecodeClaims(pw)
			c.token.Store(&tokenInfo{claims: claims, err: cerr})
		}
	}()
	cc.AfterNetConnect = func(ctx context.Context, pc *pgconn.Config, conn net.Conn) (net.Conn, error) {
		// pgconn leaves the TLS handshake to the first write (the startup
		// message): make it now, so that it too overlaps the token's
		// fetch. It checks the server (verify-full) as it would then.
		if tc, ok := conn.(*tls.Conn); ok {
			if err := tc.HandshakeContext(ctx); err != nil {
				return conn, err
			}
		}
		waiting := c.tokenNow()
		if c.tokenWaiting != nil {
			c.tokenWaiting()
		}
		select {
		case <-done:
			switch {
			case tokenErr != nil:
				return conn, tokenErr // pgconn closes conn
			case c.tokenNow().Sub(waiting) > c.tokenWaitLimit:
				return conn, errTokenOutwaited
			}
			pc.Password = pw
			return conn, nil
		case <-ctx.Done():
			return conn, ctx.Err()
		}
	}
}

// tokenWaitLimit is how long a connection, once TLS is up, may wait for its
// token and still be used: well within authentication_timeout.
const tokenWaitLimit = 20 * time.Second

// errTokenOutwaited: the connection waited over tokenWaitLimit for its
// token; poolAcquire connects again.
var errTokenOutwaited = errors.New("the connection waited too long for its token")

// connString builds a URL. sslmode and sslrootcert are explicit; other libpq
// settings still come from the usual PG* environment variables. With pgx,
// verify-full checks the chain and the host name during the TLS handshake,
// before the startup message: no password is sent to an unverified server.
func (c *Client) connString(database string) string {
	q := url.Values{}
	q.Set("sslmode", c.cfg.SSLMode)
	if c.cfg.SSLRootCert != "" {
		q.Set("sslrootcert", c.cfg.SSLRootCert)
	}
	if c.cfg.ConnectTimeout > 0 {
		q.Set("connect_timeout", strconv.Itoa(int(c.cfg.ConnectTimeout.Seconds())))
	}
	if c.cfg.ApplicationName != "" {
		q.Set("application_name", c.cfg.ApplicationName)
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(c.cfg.Username),
		Host:     hostPort(c.cfg.Host, c.cfg.Port),
		Path:     "/" + database,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// hostPort is host:port, an IPv6 address in brackets (given with or without them).
func hostPort(host string, port int) string {
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), strconv.Itoa(port))
}

// Close closes every pool.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for db, p := range c.pools {
		suspects.Delete(p)
		writable.Delete(p)
		p.Close()
		delete(c.pools, db)
	}
}
