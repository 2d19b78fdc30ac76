package localgrid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/pki"
)

// DirTLS makes (or, when dir already holds them, reuses) a CA named
// caName and node's certificate in dir, and returns the CA file and
// node's TLS settings.
func DirTLS(dir, caName, node string) (caFile string, nodeTLS *coordinator.TLS, err error) {
	ca, err := pki.ReadCA(dir)
	if errors.Is(err, os.ErrNotExist) {
		if ca, err = pki.NewCA(caName, time.Now(), 0); err == nil {
			_, _, err = pki.WriteCA(dir, ca)
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", caName, err)
	}
	certFile, keyFile := pki.CertFiles(dir, node)
	if _, serr := os.Stat(certFile); errors.Is(serr, os.ErrNotExist) {
		if _, _, err := pki.WriteCert(dir, ca, pki.CertRequest{Node: node, Now: time.Now()}); err != nil {
			return "", nil, fmt.Errorf("%s certificate: %w", node, err)
		}
	}
	caFile = filepath.Join(dir, pki.CAFile)
	nodeTLS, err = coordinator.LoadTLS(caFile, certFile, keyFile)
	if err != nil {
		return "", nil, err
	}
	return caFile, nodeTLS, nil
}
