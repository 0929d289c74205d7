package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// --tls-cert/--tls-key serve TLS 1.3 only, with HSTS (issue 3, HTTP server).
func TestTLS13OnlyWithHSTS(t *testing.T) {
	data := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	p := serveTLS(t, data, certFile, keyFile, pool)
	client := func(maxVersion uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: maxVersion}}}
	}
	res, err := client(tls.VersionTLS13).Get(p + "/healthz")
	if err != nil {
		t.Fatalf("TLS 1.3: %v", err)
	}
	res.Body.Close()
	if res.TLS.Version != tls.VersionTLS13 || !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("version %x, HSTS %q", res.TLS.Version, res.Header.Get("Strict-Transport-Security"))
	}
	if _, err := client(tls.VersionTLS12).Get(p + "/healthz"); err == nil {
		t.Fatal("a TLS 1.2 client was served")
	}
}

// serveTLS starts tillit with TLS and returns its https URL once it answers.
func serveTLS(t *testing.T, data, certFile, keyFile string, pool *x509.CertPool) string {
	t.Helper()
	pr := serveNoReady(t, data, filepath.Join(data, "tillit.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for range 100 {
		if res, err := c.Get(pr.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return pr.url
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("TLS server never ready:\n%s", pr.log())
	return ""
}
