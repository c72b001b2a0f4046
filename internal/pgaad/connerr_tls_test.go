package pgaad

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestExplainTLSExpired: an expired server certificate (hard to make the
// emulator serve) is named as such, with what to check. The unknown
// authority and wrong host name cases are tested end to end in
// internal/provider (TestAccTLSImpostor, TestAccTLSWrongHostName).
func TestExplainTLSExpired(t *testing.T) {
	c := NewClient(Config{Host: "srv.postgres.database.azure.com", SSLMode: "verify-full"})
	leaf := &x509.Certificate{NotAfter: time.Now().Add(-time.Hour)}
	err := fmt.Errorf("tls error: %w", &tls.CertificateVerificationError{
		UnverifiedCertificates: []*x509.Certificate{leaf},
		Err:                    x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired, Detail: "current time is after the certificate's NotAfter"},
	})
	ca := c.explainTLS(err)
	for _, want := range []string{"the server's certificate has expired or is not yet valid (sslmode = verify-full)", "x509: certificate has expired"} {
		if !strings.Contains(ca.what, want) {
			t.Errorf("what does not say %q: %s", want, ca.what)
		}
	}
	if !strings.Contains(ca.advice, "No token or password was sent") || !strings.Contains(ca.advice, "clock") {
		t.Errorf("advice: %s", ca.advice)
	}
	if ca.fact.Topic != "" {
		t.Errorf("topic %q: the advice names nothing a front end words otherwise", ca.fact.Topic)
	}
}
