//go:build !slicer

package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Secrets from files, so that no token needs to be on a command line
// (where every local user can read it in the process list).

// readTokenFile reads a token file: its content, surrounding space
// trimmed. An empty file is an error.
func readTokenFile(flagName, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", usageError("%s %s: the file must hold one token", flagName, path)
	}
	return tok, nil
}

// writeTokenFile writes a new token file, 0600, never over another.
func writeTokenFile(path, tok string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// coordinatorSecretFlags are the coordinator's token files.
type coordinatorSecretFlags struct {
	adminFile, workerFile, metricsFile string
	// missing are files to write the tokens generated at bootstrap to.
	missing map[string]string // token kind → path
}

func addCoordinatorSecretFlags(fset *flag.FlagSet) *coordinatorSecretFlags {
	sf := &coordinatorSecretFlags{missing: map[string]string{}}
	fset.StringVar(&sf.adminFile, "admin-token-file", os.Getenv("FABGRID_ADMIN_TOKEN_FILE"),
		"read the admin token from FILE (default $FABGRID_ADMIN_TOKEN_FILE); at --bootstrap a missing FILE gets the generated token (0600)")
	fset.StringVar(&sf.workerFile, "worker-token-file", os.Getenv("FABGRID_WORKER_TOKEN_FILE"),
		"read the grid-wide worker token from FILE (default $FABGRID_WORKER_TOKEN_FILE); at --bootstrap a missing FILE gets the generated token (0600)")
	fset.StringVar(&sf.metricsFile, "metrics-token-file", os.Getenv("FABGRID_METRICS_TOKEN_FILE"),
		"require the token in FILE (or an admin token) to read /metrics (default $FABGRID_METRICS_TOKEN_FILE; empty: /metrics is open)")
	return sf
}

// load reads the token files into the tokens; a file that does not
// exist is left to be written at bootstrap. It returns the metrics token.
func (sf *coordinatorSecretFlags) load(bootstrap bool, adminToken, workerToken *string) (metrics string, err error) {
	for _, s := range []struct {
		kind, flag, path string
		tok              *string
	}{{"admin_token", "--admin-token-file", sf.adminFile, adminToken}, {"worker_token", "--worker-token-file", sf.workerFile, workerToken}} {
		if s.path == "" {
			continue
		}
		tok, err := readTokenFile(s.flag, s.path)
		if errors.Is(err, fs.ErrNotExist) && bootstrap {
			sf.missing[s.kind] = s.path
			*s.tok = ""
			continue
		}
		if err != nil {
			return "", err
		}
		*s.tok = tok
	}
	if sf.metricsFile == "" {
		return "", nil
	}
	return readTokenFile("--metrics-token-file", sf.metricsFile)
}

// save writes the tokens generated at bootstrap to the files that were
// missing.
func (sf *coordinatorSecretFlags) save(generated map[string]string) error {
	for kind, path := range sf.missing {
		if tok := generated[kind]; tok != "" {
			if err := writeTokenFile(path, tok); err != nil {
				return fmt.Errorf("write the new %s: %w", strings.ReplaceAll(kind, "_", " "), err)
			}
		}
	}
	return nil
}
