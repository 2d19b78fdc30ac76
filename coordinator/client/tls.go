package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrUntrusted is returned when a coordinator's certificate does not
// verify against the CA the client was given (or the system's roots when
// none was): the client does not talk to it.
var ErrUntrusted = errors.New("client: coordinator certificate not trusted")

// CAConfig returns TLS settings that trust the CA certificates in the
// PEM file caFile (the cluster's fabgrid-ca.pem) and nothing else.
func CAConfig(caFile string) (*tls.Config, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %w", ErrConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrConfig, caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// untrusted reports whether err is a failure to verify the server's
// certificate.
func untrusted(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}
