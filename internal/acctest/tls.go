package acctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// Impostor is a server on 127.0.0.1 that answers PostgreSQL's SSLRequest,
// completes TLS with a certificate for localhost from a CA of its own (not
// the emulator's), and asks for a cleartext password, as an attacker on the
// server's address would. It records every message it receives.
type Impostor struct {
	Port int
	mu   sync.Mutex
	msgs []ImpostorMessage
}

// ImpostorMessage is one message the impostor received: Type is 0 for the
// SSLRequest and the startup message (which have no type byte), 'p' for a
// password message; Body is the message without its header.
type ImpostorMessage struct {
	TLS  bool // received after the TLS handshake
	Type byte
	Body []byte
}

// Messages returns what the impostor has received so far.
func (im *Impostor) Messages() []ImpostorMessage {
	im.mu.Lock()
	defer im.mu.Unlock()
	return append([]ImpostorMessage(nil), im.msgs...)
}

// Passwords returns the bodies of the password messages received.
func (im *Impostor) Passwords() []string {
	var out []string
	for _, m := range im.Messages() {
		if m.Type == 'p' {
			out = append(out, string(m.Body))
		}
	}
	return out
}

func (im *Impostor) record(m ImpostorMessage) {
	im.mu.Lock()
	im.msgs = append(im.msgs, m)
	im.mu.Unlock()
}

// NewImpostor starts an impostor until the test ends.
func NewImpostor(t testing.TB) *Impostor {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "impostor CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf, caDER}, PrivateKey: key}}}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	im := &Impostor{Port: l.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				im.serve(c, cfg)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return im
}

func (im *Impostor) serve(c net.Conn, cfg *tls.Config) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	// SSLRequest: length 8, code 80877103.
	body, err := readUntyped(c)
	if err != nil {
		return
	}
	im.record(ImpostorMessage{Body: body})
	if _, err := c.Write([]byte{'S'}); err != nil {
		return
	}
	tc := tls.Server(c, cfg)
	if err := tc.Handshake(); err != nil {
		return // the client refused the certificate: nothing more arrives
	}
	startup, err := readUntyped(tc)
	if err != nil {
		return
	}
	im.record(ImpostorMessage{TLS: true, Body: startup})
	// AuthenticationCleartextPassword.
	if _, err := tc.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}); err != nil {
		return
	}
	for {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(tc, hdr); err != nil {
			return
		}
		b := make([]byte, int(binary.BigEndian.Uint32(hdr[1:]))-4)
		if _, err := io.ReadFull(tc, b); err != nil {
			return
		}
		if hdr[0] == 'p' && len(b) > 0 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
		im.record(ImpostorMessage{TLS: true, Type: hdr[0], Body: b})
		if hdr[0] == 'p' {
			// Refuse, as a server that only wanted the password would.
			msg := "SFATAL\x00C28P01\x00Mpassword authentication failed\x00\x00"
			out := append([]byte{'E', 0, 0, 0, 0}, msg...)
			binary.BigEndian.PutUint32(out[1:], uint32(len(msg)+4))
			_, _ = tc.Write(out)
			return
		}
	}
}

func readUntyped(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr))
	if n < 4 || n > 1<<16 {
		return nil, io.ErrUnexpectedEOF
	}
	b := make([]byte, n-4)
	_, err := io.ReadFull(r, b)
	return b, err
}
