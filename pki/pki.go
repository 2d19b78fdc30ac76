// Package pki makes and reads the certificates of a fabgrid cluster: a
// cluster CA (ECDSA P-256, crypto/x509) and, signed by it, one
// certificate per coordinator. A coordinator certificate is good for TLS
// servers and clients alike and carries the coordinator role as a URI
// SAN (RoleCoordinator); coordinators accept one another by that role and
// the CA, clients (the CLI, workers) check the CA and the host name.
//
// Pure crypto and files: no network. `fabgrid tls ca create` and
// `fabgrid tls cert create` are thin wrappers over it; `fabgrid dev` and
// the tests make their CAs with it in memory.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// RoleCoordinator is the URI SAN that marks a coordinator's certificate.
const RoleCoordinator = "fabgrid:coordinator"

// Default lifetimes, as nomad tls: a CA for five years, a certificate
// for one.
const (
	DefaultCAValidity   = 5 * 365 * 24 * time.Hour
	DefaultCertValidity = 365 * 24 * time.Hour
)

var (
	// ErrBadPEM is returned for a file that holds no usable PEM block
	// of the kind asked for.
	ErrBadPEM = errors.New("pki: not a PEM certificate or key")
	// ErrNotCA is returned when a CA file's certificate cannot sign.
	ErrNotCA = errors.New("pki: certificate is not a CA")
	// ErrKeyMismatch is returned when a key does not belong to its
	// certificate.
	ErrKeyMismatch = errors.New("pki: key does not match the certificate")
	// ErrBadRequest is returned for an unusable certificate request.
	ErrBadRequest = errors.New("pki: bad certificate request")
)

// CA is a cluster certificate authority: its certificate and its key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named name, valid from now for validity
// (DefaultCAValidity when 0).
func NewCA(name string, now time.Time, validity time.Duration) (*CA, error) {
	if name == "" {
		name = "fabgrid CA"
	}
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: ca key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"fabgrid"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: ca certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// CertRequest says what a certificate is for.
type CertRequest struct {
	// Node names the certificate's owner (its common name), e.g. "c1".
	Node string
	// DNS and IPs are the names clients reach it by. Issue adds
	// "localhost" and 127.0.0.1 unless NoLoopback.
	DNS        []string
	IPs        []net.IP
	NoLoopback bool
	// Roles are URI SANs (default: RoleCoordinator alone).
	Roles []string
	// Now and Validity bound the certificate (Validity 0:
	// DefaultCertValidity; it never outlives the CA).
	Now      time.Time
	Validity time.Duration
}

// Issue signs a new key for req and returns the certificate and the key,
// PEM-encoded.
func (ca *CA) Issue(req CertRequest) (certPEM, keyPEM []byte, err error) {
	if req.Node == "" {
		return nil, nil, fmt.Errorf("%w: a certificate needs a node name", ErrBadRequest)
	}
	if req.Validity <= 0 {
		req.Validity = DefaultCertValidity
	}
	roles := req.Roles
	if roles == nil {
		roles = []string{RoleCoordinator}
	}
	var uris []*url.URL
	for _, r := range roles {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" {
			return nil, nil, fmt.Errorf("%w: role %q is not a URI", ErrBadRequest, r)
		}
		uris = append(uris, u)
	}
	dns, ips := req.DNS, req.IPs
	if !req.NoLoopback {
		dns = appendUnique(dns, "localhost")
		ips = appendUniqueIP(ips, net.IPv4(127, 0, 0, 1))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := req.Now.Add(req.Validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: req.Node, Organization: []string{"fabgrid"}},
		NotBefore:    req.Now.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
		URIs:         uris,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// CertPEM returns the CA's certificate, PEM-encoded.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM returns the CA's key, PEM-encoded.
func (ca *CA) KeyPEM() ([]byte, error) { return encodeKey(ca.Key) }

// Pool returns a pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ParseCA reads a CA from its certificate and key in PEM.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotCA, cert.Subject.CommonName)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, ErrKeyMismatch
	}
	return &CA{Cert: cert, Key: key}, nil
}

// ParseCert reads the first certificate of a PEM file.
func ParseCert(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%w: no CERTIFICATE block", ErrBadPEM)
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadPEM, err)
			}
			return c, nil
		}
	}
}

// ParseKey reads an ECDSA private key (SEC 1 "EC PRIVATE KEY" or PKCS #8).
func ParseKey(b []byte) (*ecdsa.PrivateKey, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%w: no private key block", ErrBadPEM)
		}
		switch blk.Type {
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadPEM, err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadPEM, err)
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: the key is not ECDSA", ErrBadPEM)
			}
			return ek, nil
		}
	}
}

// ParsePool reads every certificate of a PEM file into a pool.
func ParsePool(b []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%w: no CERTIFICATE block", ErrBadPEM)
	}
	return p, nil
}

// HasRole reports whether cert carries role as a URI SAN.
func HasRole(cert *x509.Certificate, role string) bool {
	for _, u := range cert.URIs {
		if u.String() == role {
			return true
		}
	}
	return false
}

func encodeKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	return s, nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func appendUniqueIP(s []net.IP, v net.IP) []net.IP {
	for _, x := range s {
		if x.Equal(v) {
			return s
		}
	}
	return append(s, v)
}
