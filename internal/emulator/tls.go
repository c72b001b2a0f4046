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

// newCA makes a throwaway CA: the emulator's cloud's (every emulator of
// the cloud has its server certificate from it).
func newCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	return caCert, caKey, nil
}

// writeCertificates writes the CA's certificate (ca.crt) and a new server
// certificate from it (server.crt, server.key) into dir, for the host name
// localhost only (Host, and AZUREPG_HOST in Env), so that the provider's
// default, sslmode=verify-full, is what the tests and the demo use, with
// the CA file as PGSSLROOTCERT. It names no IP address, like Azure's
// certificates: 127.0.0.1 is the name under which the tests reach the same
// server and expect the host-name error. Emulators of one cloud share the
// CA, so each one's ca.crt verifies all of them. It returns the path of
// ca.crt.
func writeCertificates(dir string, caCert *x509.Certificate, caKey *ecdsa.PrivateKey) (caFile string, err error) {
	now := time.Now()
	serverDER, serverKey, err := issueLeaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(30 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caCert, caKey)
	if err != nil {
		return "", err
	}
	serverKeyDER, err := x509.MarshalECPrivateKey(serverKey)
	if err != nil {
		return "", err
	}

	files := []struct {
		name, kind string
		der        []byte
		mode       os.FileMode
	}{
		{"ca.crt", "CERTIFICATE", caCert.Raw, 0o644},
		{"server.crt", "CERTIFICATE", serverDER, 0o644},
		{"server.key", "EC PRIVATE KEY", serverKeyDER, 0o600},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(filepath.Join(dir, f.name), data, f.mode); err != nil {
			return "", fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	return filepath.Join(dir, "ca.crt"), nil
}

// clientCertificate is a certificate signed by the emulator's CA for the
// front door's own connections to PostgreSQL (pg_hba clientcert=verify-ca:
// only the holder of the CA key can make one).
func clientCertificate(caCert *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	now := time.Now()
	der, key, err := issueLeaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "azurepg emulator front door"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(30 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// issueLeaf makes a new P-256 key and a certificate for it from the
// template, signed by the CA, with a random serial number (the CA of a
// cloud signs the certificates of several emulators).
func issueLeaf(tmpl, caCert *x509.Certificate, caKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(2)) // never the CA's 1
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	return der, key, err
}
