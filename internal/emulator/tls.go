package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// writeCertificatesCA creates a throwaway CA and a server certificate for
// the host name localhost only (Host, and AZUREPG_HOST in Env), so that the
// provider's default, sslmode=verify-full, is what the tests and the demo
// use, with the CA file as PGSSLROOTCERT. It names no IP address, like
// Azure's certificates: 127.0.0.1 is the name under which the tests reach
// the same server and expect the host-name error. It returns the path of the CA certificate, and the CA
// itself, to sign the front door's client certificate with.
func writeCertificatesCA(dir string) (caFile string, caCert *x509.Certificate, caKey *ecdsa.PrivateKey, err error) {
	caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, nil, err
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "azurepg emulator CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return "", nil, nil, err
	}
	caCert, err = x509.ParseCertificate(caDER)
	if err != nil {
		return "", nil, nil, err
	}

	serverDER, serverKey, err := issueLeaf(&x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caCert, caKey)
	if err != nil {
		return "", nil, nil, err
	}
	serverKeyDER, err := x509.MarshalECPrivateKey(serverKey)
	if err != nil {
		return "", nil, nil, err
	}

	files := []struct {
		name, kind string
		der        []byte
		mode       os.FileMode
	}{
		{"ca.crt", "CERTIFICATE", caDER, 0o644},
		{"server.crt", "CERTIFICATE", serverDER, 0o644},
		{"server.key", "EC PRIVATE KEY", serverKeyDER, 0o600},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(filepath.Join(dir, f.name), data, f.mode); err != nil {
			return "", nil, nil, fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	return filepath.Join(dir, "ca.crt"), caCert, caKey, nil
}

// clientCertificate is a certificate signed by the emulator's CA for the
// front door's own connections to PostgreSQL (pg_hba clientcert=verify-ca:
// only the holder of the CA key can make one).
func clientCertificate(caCert *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	now := time.Now()
	der, key, err := issueLeaf(&x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "azurepg emulator front door"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// issueLeaf makes a new P-256 key and a certificate for it from the
// template, signed by the CA.
func issueLeaf(tmpl, caCert *x509.Certificate, caKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	return der, key, err
}
