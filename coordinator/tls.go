package coordinator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/pki"
)

// Transport security. With Config.TLS set, raft, forwarding and joins run
// over mutual TLS between coordinators (each end shows a certificate of
// the cluster CA carrying pki.RoleCoordinator; coordinators know one
// another by that role, not by host name), and the API is served over
// HTTPS (clients check the CA and the host name; a coordinator's own
// certificate is accepted from them but not required). Without TLS, a
// coordinator listening on anything but loopback refuses to start unless
// Config.Insecure, and then says so in its log and in /v1/health.

var (
	// ErrTLS is returned for a CA, certificate or key that cannot serve.
	ErrTLS = errors.New("coordinator: tls")
	// ErrInsecure refuses to listen beyond loopback without TLS.
	ErrInsecure = errors.New("coordinator: refusing to run without TLS")
	// ErrNotCoordinator refuses a TLS peer whose certificate, though
	// signed by the cluster CA, lacks the coordinator role.
	ErrNotCoordinator = errors.New("coordinator: peer certificate has no coordinator role")
)

// insecureWarning is what the log and /v1/health say about a node that
// runs without TLS on a non-loopback address.
const insecureWarning = "insecure: running without TLS on a non-loopback address; anyone on that network can read tokens " +
	"and take over the cluster (give --tls-ca, --tls-cert and --tls-key)"

// TLS is the cluster's CA and this coordinator's certificate.
type TLS struct {
	CA   *x509.CertPool
	Cert tls.Certificate
}

// LoadTLS reads the cluster CA certificate and this node's certificate
// and key from PEM files (fabgrid tls ca create / cert create).
func LoadTLS(caFile, certFile, keyFile string) (*TLS, error) {
	var pems [3][]byte
	for i, f := range []string{caFile, certFile, keyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLS, err)
		}
		pems[i] = b
	}
	t, err := NewTLS(pems[0], pems[1], pems[2])
	if err != nil {
		return nil, fmt.Errorf("%w (files %s, %s, %s)", err, caFile, certFile, keyFile)
	}
	return t, nil
}

// NewTLS builds the TLS settings from PEM bytes. The certificate must be
// signed by the CA, good for server and client authentication, and carry
// the coordinator role.
func NewTLS(caPEM, certPEM, keyPEM []byte) (*TLS, error) {
	pool, err := pki.ParsePool(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: CA: %w", ErrTLS, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate and key: %w", ErrTLS, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%w: certificate: %w", ErrTLS, err)
		}
		cert.Leaf = leaf
	}
	if err := verifyCoordinator(leaf, nil, pool, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth); err != nil {
		return nil, fmt.Errorf("%w: this node's certificate %q: %w", ErrTLS, leaf.Subject.CommonName, err)
	}
	return &TLS{CA: pool, Cert: cert}, nil
}

// verifyCoordinator checks that cert chains to roots for every usage and
// carries the coordinator role.
func verifyCoordinator(cert *x509.Certificate, intermediates, roots *x509.CertPool, usages ...x509.ExtKeyUsage) error {
	for _, u := range usages {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			return err
		}
	}
	if !pki.HasRole(cert, pki.RoleCoordinator) {
		return fmt.Errorf("%w (want URI SAN %s; make it with fabgrid tls cert create)", ErrNotCoordinator, pki.RoleCoordinator)
	}
	return nil
}

// peerServer is the TLS side of a coordinator accepting another one
// (raft): a certificate of the CA with the coordinator role is required.
func (t *TLS) peerServer() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{t.Cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    t.CA,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !pki.HasRole(cs.PeerCertificates[0], pki.RoleCoordinator) {
				return ErrNotCoordinator
			}
			return nil
		},
	}
}

// peerClient is the TLS side of a coordinator calling another one (raft,
// forwarding, joins): it shows its own certificate and accepts a server
// certificate of the CA with the coordinator role, whatever host name it
// was reached by.
func (t *TLS) peerClient() *tls.Config {
	if t == nil {
		return nil
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{t.Cert},
		// The chain and the role are checked below, the host name is
		// not: the raft configuration and the FSM name the peers.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrNotCoordinator
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			return verifyCoordinator(cs.PeerCertificates[0], inter, t.CA, x509.ExtKeyUsageServerAuth)
		},
	}
}

// httpServer is the API's TLS: anyone may connect (tokens authenticate
// requests); a coordinator forwarding a request shows its certificate.
func (t *TLS) httpServer() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.Cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    t.CA,
		NextProtos:   []string{"http/1.1"},
	}
}

// peerHTTPTransport is the transport of the join and announce calls, nil
// (http.DefaultTransport) without TLS.
func (t *TLS) peerHTTPTransport() http.RoundTripper {
	if t == nil {
		return nil
	}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     t.peerClient(),
		TLSHandshakeTimeout: 5 * time.Second,
		IdleConnTimeout:     90 * time.Second,
	}
}

// scheme is the API's URL scheme.
func (n *Node) scheme() string {
	if n.cfg.TLS != nil {
		return "https"
	}
	return "http"
}

// listenHTTP wraps the API listener in TLS when the node has it.
func (n *Node) listenHTTP(ln net.Listener) net.Listener {
	if n.cfg.TLS == nil {
		return ln
	}
	return tls.NewListener(ln, n.cfg.TLS.httpServer())
}

// checkTransportSecurity refuses a config that would listen beyond
// loopback without TLS (unless Insecure), and join URLs of the wrong
// scheme. It fills in a missing scheme.
func (c *Config) checkTransportSecurity() error {
	scheme := "http"
	if c.TLS != nil {
		scheme = "https"
	}
	c.Join = append([]string(nil), c.Join...) // the caller's slice stays as it was
	for i, u := range c.Join {
		if !strings.Contains(u, "://") {
			c.Join[i] = scheme + "://" + u
			continue
		}
		if c.TLS != nil && strings.HasPrefix(u, "http://") {
			return fmt.Errorf("coordinator: config: join URL %s: this coordinator runs TLS, so must the others: use https://", u)
		}
	}
	if c.TLS != nil || c.Insecure {
		return nil
	}
	if !isLoopback(c.HTTPAddr) {
		return fmt.Errorf("%w: the HTTP address %q is not a loopback address; give the cluster CA and this node's certificate "+
			"(--tls-ca, --tls-cert, --tls-key; make them with fabgrid tls ca create and fabgrid tls cert create), or --insecure to run in the clear anyway",
			ErrInsecure, c.HTTPAddr)
	}
	if c.Transport == nil && !isLoopback(c.RaftAddr) {
		return fmt.Errorf("%w: the raft address %q is not a loopback address, and raft without TLS lets anyone who reaches it rewrite the cluster's state; "+
			"give the cluster CA and this node's certificate (--tls-ca, --tls-cert, --tls-key; make them with fabgrid tls ca create and fabgrid tls cert create), "+
			"or --insecure to run in the clear anyway", ErrInsecure, c.RaftAddr)
	}
	return nil
}

// exposedInClear reports whether the node runs without TLS on an address
// beyond loopback (allowed only with Insecure).
func (c *Config) exposedInClear() bool {
	return c.TLS == nil && (!isLoopback(c.HTTPAddr) || c.Transport == nil && !isLoopback(c.RaftAddr))
}

// healthWarning is /v1/health's warning, "" when there is none.
func (n *Node) healthWarning() string {
	if n.cfg.exposedInClear() {
		return insecureWarning
	}
	return ""
}

// isLoopback reports whether a listen address ("127.0.0.1:8740",
// "[::1]:0", "localhost:8740") is on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
