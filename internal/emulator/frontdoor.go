package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TokenLogin chooses how the emulator checks the token an Entra principal
// logs in with.
type TokenLogin string

const (
	// TokenLoginFrontDoor: a front door in the emulator speaks the
	// PostgreSQL protocol on Port and checks a token as Azure does (its
	// signature, expiry, audience, tenant, and the role's object id), so
	// every unexpired token of an identity logs in. PostgreSQL itself
	// listens on a private port that only the front door uses.
	TokenLoginFrontDoor TokenLogin = "front-door"
	// TokenLoginPassword: the first emulator's way. Each new token becomes
	// the password of the identity's roles until it expires, so a new token
	// replaces the previous one (Azure never does that).
	TokenLoginPassword TokenLogin = "password"
)

// DefaultTokenLogin applies when Options.TokenLogin is empty and the
// environment variable AZUREPG_EMULATOR_TOKEN_LOGIN is not set.
const DefaultTokenLogin = TokenLoginFrontDoor

func resolveTokenLogin(opt TokenLogin) (TokenLogin, error) {
	if opt == "" {
		opt = TokenLogin(os.Getenv("AZUREPG_EMULATOR_TOKEN_LOGIN"))
	}
	switch opt {
	case "":
		return DefaultTokenLogin, nil
	case TokenLoginFrontDoor, TokenLoginPassword:
		return opt, nil
	}
	return "", fmt.Errorf("unknown token login %q (want %q or %q)", opt, TokenLoginFrontDoor, TokenLoginPassword)
}

// TokenLogin is how this emulator checks tokens.
func (e *Emulator) TokenLogin() TokenLogin { return e.mode }

// Accepted is how many TCP connections the front door has accepted on
// Port since Start, whatever became of them (a TLS handshake that failed, a
// refused token, a session): a test that must show that a client never
// reached the server reads it before and after. Always 0 with
// TokenLoginPassword, where PostgreSQL itself listens on Port.
func (e *Emulator) Accepted() int64 {
	if e.front == nil {
		return 0
	}
	return e.front.accepted.Load()
}

// gatewayAddr is the address the front door connects from when it has
// checked a token itself: pg_hba trusts it, with a client certificate that
// only the emulator (holder of the CA key) can present.
var gatewayAddr = net.IPv4(127, 0, 0, 2)

const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	cancelRequestCode = 80877102
)

// frontDoor accepts clients on the emulator's public port.
type frontDoor struct {
	e          *Emulator
	serverTLS  *tls.Config    // what clients see: the server certificate PostgreSQL has
	gatewayTLS *tls.Config    // to PostgreSQL after a token was checked: with the client certificate
	passTLS    *tls.Config    // to PostgreSQL with the client's password: no client certificate
	base       *pgconn.Config // PostgreSQL's private port

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool

	accepted atomic.Int64 // TCP connections accepted since Start
}

func newFrontDoor(e *Emulator, caCert *x509.Certificate, caKey *ecdsa.PrivateKey) (*frontDoor, error) {
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(e.dataDir, "server.crt"), filepath.Join(e.dataDir, "server.key"))
	if err != nil {
		return nil, err
	}
	clientCert, err := clientCertificate(caCert, caKey)
	if err != nil {
		return nil, err
	}
	// PostgreSQL serves the same certificate as the front door, for localhost.
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	base, err := pgconn.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d sslmode=disable connect_timeout=30", e.pgPort))
	if err != nil {
		return nil, err
	}
	return &frontDoor{
		e:          e,
		serverTLS:  &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12},
		gatewayTLS: &tls.Config{Certificates: []tls.Certificate{clientCert}, RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		passTLS:    &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		base:       base,
		conns:      map[net.Conn]struct{}{},
	}, nil
}

// listen opens the public port (again, after a Restart).
func (fd *frontDoor) listen() error {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", fd.e.port))
	if err != nil {
		return err
	}
	fd.mu.Lock()
	fd.ln = ln
	fd.mu.Unlock()
	go fd.accept(ln)
	return nil
}

// closeListener stops accepting: clients get "connection refused", as while
// PostgreSQL is down. Open sessions go on.
func (fd *frontDoor) closeListener() {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	if fd.ln != nil {
		_ = fd.ln.Close()
		fd.ln = nil
	}
}

// close stops accepting and ends every client connection.
func (fd *frontDoor) close() {
	fd.closeListener()
	fd.mu.Lock()
	defer fd.mu.Unlock()
	fd.closed = true
	for c := range fd.conns {
		_ = c.Close()
	}
}

func (fd *frontDoor) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		fd.accepted.Add(1)
		fd.mu.Lock()
		if fd.closed {
			fd.mu.Unlock()
			_ = c.Close()
			return
		}
		fd.conns[c] = struct{}{}
		fd.mu.Unlock()
		go func() {
			defer func() {
				fd.mu.Lock()
				delete(fd.conns, c)
				fd.mu.Unlock()
				_ = c.Close()
			}()
			fd.handle(c)
		}()
	}
}

// handle runs PostgreSQL's start-up protocol with one client.
func (fd *frontDoor) handle(raw net.Conn) {
	_ = raw.SetDeadline(time.Now().Add(time.Minute)) // PostgreSQL's authentication_timeout
	conn, tlsOn := raw, false
	for {
		msg, err := readStartup(conn)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				fd.fatal(conn, "08P01", err.Error())
			}
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if tlsOn {
				fd.fatal(conn, "08P01", "SSL negotiation after a TLS handshake")
				return
			}
			if _, err := raw.Write([]byte{'S'}); err != nil {
				return
			}
			tc := tls.Server(raw, fd.serverTLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, tlsOn = tc, true
		case *pgproto3.GSSEncRequest:
			if _, err := conn.Write([]byte{'N'}); err != nil {
				return
			}
		case *pgproto3.CancelRequest:
			fd.forwardCancel(m)
			return
		case *pgproto3.StartupMessage:
			fd.login(conn, m, tlsOn)
			return
		}
	}
}

// readStartup reads one untyped start-up packet without reading ahead (the
// TLS handshake follows an SSLRequest on the same connection).
func readStartup(r io.Reader) (pgproto3.FrontendMessage, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if n < 8 || n > 10000 {
		return nil, errors.New("invalid length of startup packet")
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	switch binary.BigEndian.Uint32(body) {
	case sslRequestCode:
		return &pgproto3.SSLRequest{}, nil
	case gssEncRequestCode:
		return &pgproto3.GSSEncRequest{}, nil
	case cancelRequestCode:
		m := &pgproto3.CancelRequest{}
		return m, m.Decode(body)
	}
	if major := binary.BigEndian.Uint32(body) >> 16; major != 3 {
		return nil, fmt.Errorf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, binary.BigEndian.Uint32(body)&0xffff)
	}
	m := &pgproto3.StartupMessage{}
	return m, m.Decode(body)
}

// readPassword reads the client's PasswordMessage.
func readPassword(r io.Reader) (string, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	n := int(binary.BigEndian.Uint32(hdr[1:]))
	if hdr[0] != 'p' || n < 5 || n > 65535 {
		return "", fmt.Errorf("expected password response, got message type %d", hdr[0])
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	var m pgproto3.PasswordMessage
	if err := m.Decode(body); err != nil {
		return "", err
	}
	return m.Password, nil
}

func send(w io.Writer, msgs ...pgproto3.BackendMessage) error {
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			return err
		}
	}
	_, err := w.Write(buf)
	return err
}

// fatal ends the start-up with an error, as PostgreSQL's FATAL.
func (fd *frontDoor) fatal(w io.Writer, code, msg string) {
	_ = send(w, &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
}

// login asks for the password (in clear text, over TLS, as Azure does),
// checks a token itself or hands a password to PostgreSQL, and then joins
// the client to a PostgreSQL session.
func (fd *frontDoor) login(conn net.Conn, m *pgproto3.StartupMessage, tlsOn bool) {
	user, db := m.Parameters["user"], m.Parameters["database"]
	if db == "" {
		db = user
	}
	if user == "" {
		fd.fatal(conn, "28000", "no PostgreSQL user name specified in startup packet")
		return
	}
	if !tlsOn && !fd.e.opts.AllowPlaintext {
		host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
		fd.fatal(conn, "28000", fmt.Sprintf(`no pg_hba.conf entry for host "%s", user "%s", database "%s", no encryption`, host, user, db))
		return
	}
	params := map[string]string{}
	var unknown []string
	for k, v := range m.Parameters {
		switch {
		case k == "user" || k == "database":
		case strings.HasPrefix(k, "_pq_."):
			unknown = append(unknown, k)
		default:
			params[k] = v
		}
	}
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unknown) > 0 {
		sort.Strings(unknown)
		if err := send(conn, &pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown}); err != nil {
			return
		}
	}
	if err := send(conn, &pgproto3.AuthenticationCleartextPassword{}); err != nil {
		return
	}
	password, err := readPassword(conn)
	if err != nil {
		return // the client gave up (PostgreSQL logs it only)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := fd.base.Copy()
	cfg.User, cfg.Database, cfg.RuntimeParams, cfg.Fallbacks = user, db, params, nil
	cfg.Password, cfg.ValidateConnect, cfg.AfterConnect = "", nil, nil
	labels, entra, err := fd.e.roleLabels(ctx, user)
	if err != nil {
		fd.forwardError(conn, err)
		return
	}
	if entra {
		if err := fd.e.checkToken(password, user, labels); err != nil {
			msg := fmt.Sprintf(msgTokenObjectID, user)
			var r *refusal
			if errors.As(err, &r) && r.client != "" {
				msg = r.client
			}
			fd.e.logRefusal(user, db, msg, err)
			fd.fatal(conn, refusalSQLState, msg)
			return
		}
		if tlsOn {
			cfg.TLSConfig = fd.gatewayTLS
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: gatewayAddr}, KeepAlive: 5 * time.Minute}
			cfg.DialFunc = d.DialContext
		} else {
			cfg.Host = fd.e.dir // the private Unix socket, trusted
		}
	} else {
		// Not an Entra principal: PostgreSQL checks the password (SCRAM).
		cfg.Password = password
		if tlsOn {
			cfg.TLSConfig = fd.passTLS
		}
	}
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		fd.forwardError(conn, err)
		return
	}
	hc, err := pc.Hijack()
	if err != nil {
		fd.forwardError(conn, err)
		return
	}
	backend := hc.Conn
	defer backend.Close()
	_ = backend.SetDeadline(time.Time{})
	msgs := []pgproto3.BackendMessage{&pgproto3.AuthenticationOk{}}
	names := make([]string, 0, len(hc.ParameterStatuses))
	for k := range hc.ParameterStatuses {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		msgs = append(msgs, &pgproto3.ParameterStatus{Name: k, Value: hc.ParameterStatuses[k]})
	}
	msgs = append(msgs, &pgproto3.BackendKeyData{ProcessID: hc.PID, SecretKey: hc.SecretKey},
		&pgproto3.ReadyForQuery{TxStatus: hc.TxStatus})
	if err := send(conn, msgs...); err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	pipe(conn, backend, hc.Frontend)
}

// pipe joins the client to its PostgreSQL session until either side closes
// (pg_terminate_backend, a restart, or the client's Terminate), then closes
// both. The client's bytes go to the backend as they are. The backend's go
// through the hijacked pgconn's Frontend, message by message: pgconn may
// have left a read in flight on the connection (its background reader
// starts when a write during the log-in is slow, as under load, and a read
// it began stays pending after it stops), and that read takes the answer to
// the client's first query. Reading the raw connection lost that answer and
// left the client waiting forever; the Frontend hands it on.
func pipe(client, backend net.Conn, fromBackend *pgproto3.Frontend) {
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(backend, client)
		done <- struct{}{}
	}()
	go func() {
		forwardMessages(client, fromBackend)
		done <- struct{}{}
	}()
	<-done
	_ = client.Close()
	_ = backend.Close()
	<-done
}

// forwardMessages writes every message the backend sends to the client,
// batching those that arrive together into one write (a result of many rows
// is not a write per row), until either side fails.
func forwardMessages(client net.Conn, fe *pgproto3.Frontend) {
	out := make(chan []byte, 64)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		failed := false
		for b := range out {
			for more := true; more; {
				select {
				case next, ok := <-out:
					if !ok {
						more = false
						break
					}
					b = append(b, next...)
				default:
					more = false
				}
			}
			if !failed {
				if _, err := client.Write(b); err != nil {
					failed = true
					_ = client.Close() // ends the client-to-backend copy too
				}
			}
		}
	}()
	for {
		msg, err := fe.Receive()
		if err != nil {
			break
		}
		b, err := msg.Encode(nil) // before the next Receive reuses msg's memory
		if err != nil {
			break
		}
		out <- b
	}
	close(out)
	<-writerDone
}

// forwardError gives the client PostgreSQL's own error (a wrong password,
// a missing database, too many connections), or a FATAL of ours when
// PostgreSQL could not be reached.
func (fd *frontDoor) forwardError(w io.Writer, err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		_ = send(w, &pgproto3.ErrorResponse{Severity: pe.Severity, SeverityUnlocalized: pe.SeverityUnlocalized,
			Code: pe.Code, Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint, Where: pe.Where,
			File: pe.File, Line: pe.Line, Routine: pe.Routine})
		return
	}
	fd.fatal(w, "57P03", "the database system is not accepting connections")
}

// forwardCancel hands a CancelRequest to PostgreSQL: the process id and key
// the client holds are the PostgreSQL session's own.
func (fd *frontDoor) forwardCancel(m *pgproto3.CancelRequest) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fd.e.pgPort), 5*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	buf, err := m.Encode(nil)
	if err != nil {
		return
	}
	if _, err := c.Write(buf); err != nil {
		return
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, c) // PostgreSQL closes once it has read it
}

// roleLabel is what a role's pgaadauth labels say of the Entra object.
type roleLabel struct {
	oids []string // every object id the labels name (lower case)
	typ  string   // the type the labels name: user, group or service ("" if none)
}

// roleLabels returns whether the role is an Entra principal (it has a
// pgaadauth label) and the object ids and type its labels name.
func (e *Emulator) roleLabels(ctx context.Context, role string) (l roleLabel, entra bool, err error) {
	rows, err := e.super.Query(ctx, `SELECT s.label FROM pg_roles r
		JOIN pg_shseclabel s ON s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass
		WHERE r.rolname = $1 AND s.provider IN ('pgaadauth', 'pgaadauth-int')`, role)
	if err != nil {
		return l, false, err
	}
	labels, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return l, false, err
	}
	for _, label := range labels {
		for _, part := range strings.Split(label, ",") {
			part = strings.ToLower(strings.TrimSpace(part))
			if v, ok := strings.CutPrefix(part, "oid="); ok {
				l.oids = append(l.oids, v)
			}
			if v, ok := strings.CutPrefix(part, "type="); ok && l.typ == "" {
				l.typ = v
			}
		}
	}
	return l, len(labels) > 0, nil
}

// checkToken accepts a token this emulator issued, unexpired, for a
// PostgreSQL resource, whose object id is the role's. A service
// principal's or managed identity's token (it has an appid) for another
// role gets Azure's texts for it.
func (e *Emulator) checkToken(token, role string, l roleLabel) error {
	c, err := e.verifyJWT(token, time.Now())
	if err != nil {
		if errors.Is(err, errNotJWT) {
			return refuse(msgTokenFormat, "the password is not an Entra access token")
		}
		return err
	}
	for _, oid := range l.oids {
		if strings.EqualFold(oid, c.Oid) {
			return nil
		}
	}
	if len(l.oids) == 0 {
		return refuse("", "the role's pgaadauth labels name no object id")
	}
	why := fmt.Sprintf("the token is for object id %s, the role is labelled with %s", c.Oid, strings.Join(l.oids, ", "))
	switch {
	case c.Appid != "" && l.typ == "user":
		return refuse(fmt.Sprintf(msgTokenAppForUser, role), "%s", why)
	case c.Appid != "" && l.typ == "service":
		return refuse(fmt.Sprintf(msgTokenAppOidMismatch, role, l.oids[0], c.Appid, c.Oid), "%s", why)
	}
	return refuse("", "%s", why)
}

// logRefusal writes a refused token to the server log, as PostgreSQL logs
// a failed login: the client's message, and the reason (in the log only,
// never to the client).
func (e *Emulator) logRefusal(user, db, msg string, reason error) {
	ts := time.Now().UTC().Format("2006-01-02 15:04:05.000 MST")
	line := fmt.Sprintf("%s [front door] %s@%s FATAL:  %s\n%s [front door] %s@%s DETAIL:  %s\n",
		ts, user, db, msg, ts, user, db, reason)
	e.opts.Logf("refused a token for %q: %v", user, reason)
	f, err := os.OpenFile(e.ServerLog(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	_, _ = f.WriteString(line)
	_ = f.Close()
}
