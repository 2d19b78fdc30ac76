package coordinatortest

import (
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/pki"
)

// testCA is the one CA of every test cluster in the process.
var testCA = sync.OnceValue(func() *pki.CA {
	ca, err := pki.NewCA("fabgrid test CA", time.Now(), 0)
	if err != nil {
		panic("coordinatortest: test CA: " + err.Error())
	}
	return ca
})

// CA returns the test CA that signs the test clusters' certificates.
func CA() *pki.CA { return testCA() }

// NodeTLS issues a coordinator certificate of the test CA for node
// (valid for localhost and 127.0.0.1).
func NodeTLS(t testing.TB, node string) *coordinator.TLS {
	t.Helper()
	return IssueTLS(t, CA(), node)
}

// IssueTLS issues a coordinator certificate of ca for node.
func IssueTLS(t testing.TB, ca *pki.CA, node string) *coordinator.TLS {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(pki.CertRequest{Node: node, Now: time.Now()})
	if err != nil {
		t.Fatalf("issue %s: %v", node, err)
	}
	tc, err := coordinator.NewTLS(ca.CertPEM(), certPEM, keyPEM)
	if err != nil {
		t.Fatalf("tls for %s: %v", node, err)
	}
	return tc
}

// ClientTLS trusts the test CA: what a client of a test cluster (the
// CLI, a worker) is given with --ca.
func ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: CA().Pool(), MinVersion: tls.VersionTLS12}
}
