package pki

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The file names `fabgrid tls` writes, as nomad tls does.
const (
	CAFile    = "fabgrid-ca.pem"
	CAKeyFile = "fabgrid-ca-key.pem"
)

// ErrExists is returned instead of overwriting a certificate or key.
var ErrExists = errors.New("pki: file exists")

// CertFiles returns the certificate and key file names of node in dir
// (dir/c1.pem, dir/c1-key.pem).
func CertFiles(dir, node string) (cert, key string) {
	return filepath.Join(dir, node+".pem"), filepath.Join(dir, node+"-key.pem")
}

// WriteCA writes the CA's certificate (0644) and key (0600) into dir,
// creating dir; it refuses to overwrite either file.
func WriteCA(dir string, ca *CA) (certPath, keyPath string, err error) {
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	if err := writePair(dir, certPath, ca.CertPEM(), keyPath, keyPEM); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// ReadCA reads the CA that WriteCA wrote into dir.
func ReadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("pki: read ca: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("pki: read ca key: %w", err)
	}
	ca, err := ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return ca, nil
}

// WriteCert issues a certificate for req and writes it (0644) and its
// key (0600) into dir as CertFiles names them; it refuses to overwrite.
func WriteCert(dir string, ca *CA, req CertRequest) (certPath, keyPath string, err error) {
	certPEM, keyPEM, err := ca.Issue(req)
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = CertFiles(dir, req.Node)
	if err := writePair(dir, certPath, certPEM, keyPath, keyPEM); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// writePair writes a certificate and its key, neither if either exists.
func writePair(dir, certPath string, certPEM []byte, keyPath string, keyPEM []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s (remove it first to make a new one)", ErrExists, p)
		}
	}
	// The key first, created 0600 and exclusively: it is never readable
	// by others, not even for a moment.
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(certPath, certPEM, 0o644); err != nil {
		os.Remove(keyPath)
		return err
	}
	return nil
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	return nil
}
