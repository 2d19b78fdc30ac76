package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, err := NewCA("", now, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestIssuedCertificateIsACoordinatorCertificate(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM, err := ca.Issue(CertRequest{Node: "c1", DNS: []string{"coord1.lan"}, IPs: []net.IP{net.ParseIP("192.168.1.10")}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("certificate and key do not pair: %v", err)
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "c1" || !HasRole(cert, RoleCoordinator) {
		t.Errorf("subject %q, uris %v: want c1 with %s", cert.Subject.CommonName, cert.URIs, RoleCoordinator)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		for _, host := range []string{"coord1.lan", "localhost", "127.0.0.1", "192.168.1.10"} {
			opts := x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}, DNSName: host}
			if _, err := cert.Verify(opts); err != nil {
				t.Errorf("verify for %v as %s: %v", usage, host, err)
			}
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now, DNSName: "other.lan"}); err == nil {
		t.Error("certificate verified for a host it does not name")
	}
	if !cert.NotAfter.Equal(now.Add(DefaultCertValidity).Truncate(time.Second)) {
		t.Errorf("not after %v, want a year from now", cert.NotAfter)
	}
}

func TestCertificateFromAnotherCAIsNotTrusted(t *testing.T) {
	ours, theirs := newTestCA(t), newTestCA(t)
	certPEM, _, err := theirs.Issue(CertRequest{Node: "c1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ParseCert(certPEM)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ours.Pool(), CurrentTime: now}); err == nil {
		t.Fatal("a certificate of another CA verified against ours")
	}
}

func TestIssueRefusesBadRequests(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name string
		req  CertRequest
	}{
		{"no node", CertRequest{Now: now}},
		{"role not a URI", CertRequest{Node: "c1", Roles: []string{"coordinator"}, Now: now}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ca.Issue(tc.req); !errors.Is(err, ErrBadRequest) {
				t.Fatalf("err %v, want ErrBadRequest", err)
			}
		})
	}
}

func TestCertNeverOutlivesItsCA(t *testing.T) {
	ca, err := NewCA("short", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _, err := ca.Issue(CertRequest{Node: "c1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ParseCert(certPEM)
	if cert.NotAfter.After(ca.Cert.NotAfter) {
		t.Fatalf("certificate ends %v after its CA %v", cert.NotAfter, ca.Cert.NotAfter)
	}
}

func TestWriteAndReadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	caCert, caKey, err := WriteCA(dir, ca)
	if err != nil {
		t.Fatal(err)
	}
	if caCert != filepath.Join(dir, "fabgrid-ca.pem") || caKey != filepath.Join(dir, "fabgrid-ca-key.pem") {
		t.Errorf("wrote %s and %s", caCert, caKey)
	}
	cert, key, err := WriteCert(dir, ca, CertRequest{Node: "c1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if cert != filepath.Join(dir, "c1.pem") || key != filepath.Join(dir, "c1-key.pem") {
		t.Errorf("wrote %s and %s", cert, key)
	}
	for _, p := range []string{caKey, key} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	back, err := ReadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cert.Equal(ca.Cert) || !back.Key.Equal(ca.Key) {
		t.Error("ReadCA gave another CA")
	}
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		t.Errorf("written pair does not load: %v", err)
	}
}

func TestWriteRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	if _, _, err := WriteCA(dir, ca); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if _, _, err := WriteCA(dir, newTestCA(t)); !errors.Is(err, ErrExists) {
		t.Fatalf("second WriteCA: %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if string(before) != string(after) {
		t.Fatal("the CA key was overwritten")
	}
	if _, _, err := WriteCert(dir, ca, CertRequest{Node: "c1", Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WriteCert(dir, ca, CertRequest{Node: "c1", Now: now}); !errors.Is(err, ErrExists) {
		t.Fatalf("second WriteCert: %v, want ErrExists", err)
	}
}

func TestParseCARefusesWhatIsNotOne(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM, _ := ca.Issue(CertRequest{Node: "c1", Now: now})
	caKey, _ := ca.KeyPEM()
	other, _ := newTestCA(t).KeyPEM()
	for _, tc := range []struct {
		name      string
		cert, key []byte
		want      error
	}{
		{"leaf certificate", certPEM, keyPEM, ErrNotCA},
		{"another key", ca.CertPEM(), other, ErrKeyMismatch},
		{"no PEM", []byte("hello"), caKey, ErrBadPEM},
		{"key in place of cert", caKey, caKey, ErrBadPEM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseCA(tc.cert, tc.key); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	ca, _ := NewCA("", now, 0)
	certPEM, keyPEM, _ := ca.Issue(CertRequest{Node: "c1", Now: now})
	f.Add(certPEM)
	f.Add(keyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ParseCert(b); err == nil && c == nil {
			t.Fatal("nil certificate without error")
		}
		if k, err := ParseKey(b); err == nil && k == nil {
			t.Fatal("nil key without error")
		}
		_, _ = ParsePool(b)
	})
}
