//go:build !slicer

package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/pki"
)

func init() {
	register(command{name: "tls", summary: "make the cluster's CA and the coordinators' certificates (like nomad tls)", run: runTLS})
}

func runTLS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "ca" || args[0] == "cert") {
		group := args[0]
		verbs := map[string]map[string]subcommand{
			"ca":   {"create": {"make a new cluster CA (fabgrid-ca.pem, fabgrid-ca-key.pem)", runTLSCACreate}},
			"cert": {"create": {"make a coordinator's certificate signed by the CA (NODE.pem, NODE-key.pem)", runTLSCertCreate}},
		}[group]
		return dispatch(ctx, "tls "+group, verbs, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "Usage: fabgrid tls ca create [--dir DIR]\n"+
		"       fabgrid tls cert create --dir DIR --node NAME [--dns NAME]… [--ip IP]…\n\n"+
		"Makes the certificates a TLS cluster needs: one CA per cluster, and for every coordinator a\n"+
		"certificate signed by it (ECDSA P-256). Give each coordinator the CA certificate and its own\n"+
		"certificate and key (--tls-ca, --tls-cert, --tls-key); give the CLI and the workers the CA\n"+
		"certificate (--ca or $FABGRID_CA). Keep fabgrid-ca-key.pem off the coordinators.\n")
	if len(args) == 0 {
		return usageError("missing ca or cert")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return flag.ErrHelp
	}
	return usageError("unknown tls command %q (ca or cert)", args[0])
}

// tlsCreated is what --json prints.
type tlsCreated struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

func runTLSCACreate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tls ca create", "tls ca create [--dir DIR] [--days N] [--name NAME]",
		"Makes a new cluster CA: DIR/fabgrid-ca.pem (the certificate every coordinator, worker and\n"+
			"CLI is given) and DIR/fabgrid-ca-key.pem (mode 0600; it signs coordinator certificates and\n"+
			"should stay with the operator). Existing files are never overwritten.", stderr)
	dir := fs.String("dir", ".", "directory to write into")
	days := fs.Int("days", int(pki.DefaultCAValidity/(24*time.Hour)), "days the CA is valid")
	name := fs.String("name", "fabgrid CA", "the CA's common name")
	asJSON := fs.Bool("json", false, "print the paths as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments %q", fs.Args())
	}
	if *days <= 0 {
		return usageError("--days must be positive")
	}
	ca, err := pki.NewCA(*name, time.Now(), time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	cert, key, err := pki.WriteCA(*dir, ca)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(tlsCreated{Cert: cert, Key: key})
	}
	fmt.Fprintf(stdout, "==> CA certificate saved to: %s\n==> CA certificate key saved to: %s\n", cert, key)
	return nil
}

func runTLSCertCreate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tls cert create", "tls cert create --dir DIR --node NAME [--dns NAME]… [--ip IP]… [--days N]",
		"Makes a coordinator's certificate and key, signed by the CA in --dir (fabgrid-ca.pem and\n"+
			"fabgrid-ca-key.pem): DIR/NAME.pem and DIR/NAME-key.pem (mode 0600). It is good for TLS\n"+
			"servers and clients and carries the coordinator role, which the other coordinators require\n"+
			"of raft connections. It is valid for localhost and 127.0.0.1 and for every --dns and --ip:\n"+
			"give the names and addresses the CLI and workers use to reach this coordinator.", stderr)
	dir := fs.String("dir", ".", "directory holding the CA, where the certificate is written")
	caDir := fs.String("ca-dir", "", "directory holding the CA, when not --dir")
	node := fs.String("node", "", "the coordinator's name, e.g. c1 (required)")
	var dns, ips listFlag
	fs.Var(&dns, "dns", "a DNS name of the coordinator (repeatable, or comma-separated)")
	fs.Var(&ips, "ip", "an IP address of the coordinator (repeatable, or comma-separated)")
	days := fs.Int("days", int(pki.DefaultCertValidity/(24*time.Hour)), "days the certificate is valid (never past the CA)")
	asJSON := fs.Bool("json", false, "print the paths as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments %q", fs.Args())
	}
	if *node == "" {
		return usageError("--node is required (the coordinator's name, e.g. c1)")
	}
	if strings.ContainsAny(*node, `/\`) || strings.HasPrefix(*node, ".") {
		return usageError("--node %q: a name, not a path", *node)
	}
	if *days <= 0 {
		return usageError("--days must be positive")
	}
	req := pki.CertRequest{Node: *node, DNS: dns, Now: time.Now(), Validity: time.Duration(*days) * 24 * time.Hour}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return usageError("--ip %q is not an IP address", s)
		}
		req.IPs = append(req.IPs, ip)
	}
	if *caDir == "" {
		*caDir = *dir
	}
	ca, err := pki.ReadCA(*caDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w — make one first with fabgrid tls ca create --dir %s", err, *caDir)
		}
		return err
	}
	cert, key, err := pki.WriteCert(*dir, ca, req)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(tlsCreated{Cert: cert, Key: key})
	}
	fmt.Fprintf(stdout, "==> Certificate saved to: %s\n==> Certificate key saved to: %s\n", cert, key)
	return nil
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// coordinatorTLSFlags are the coordinator's --tls-* and --insecure.
type coordinatorTLSFlags struct {
	ca, cert, key string
	insecure      bool
}

func addCoordinatorTLSFlags(fs *flag.FlagSet) *coordinatorTLSFlags {
	tf := &coordinatorTLSFlags{}
	fs.StringVar(&tf.ca, "tls-ca", os.Getenv("FABGRID_TLS_CA"), "the cluster CA certificate, PEM (fabgrid tls ca create; default $FABGRID_TLS_CA)")
	fs.StringVar(&tf.cert, "tls-cert", os.Getenv("FABGRID_TLS_CERT"), "this coordinator's certificate, PEM (fabgrid tls cert create; default $FABGRID_TLS_CERT)")
	fs.StringVar(&tf.key, "tls-key", os.Getenv("FABGRID_TLS_KEY"), "this coordinator's key, PEM (default $FABGRID_TLS_KEY)")
	fs.BoolVar(&tf.insecure, "insecure", false, "allow an HTTP or raft address beyond loopback without TLS (anyone on that network can take the cluster over)")
	return tf
}

// load reads the TLS files; nil without them.
func (tf *coordinatorTLSFlags) load() (*coordinator.TLS, error) {
	if tf.ca == "" && tf.cert == "" && tf.key == "" {
		return nil, nil
	}
	if tf.ca == "" || tf.cert == "" || tf.key == "" {
		return nil, usageError("TLS needs all three of --tls-ca, --tls-cert and --tls-key")
	}
	if tf.insecure {
		return nil, usageError("--insecure and --tls-* exclude each other")
	}
	return coordinator.LoadTLS(tf.ca, tf.cert, tf.key)
}

func (tf *coordinatorTLSFlags) scheme() string {
	if tf.ca != "" {
		return "https"
	}
	return "http"
}

// addCAFlag defines the --ca of the commands that call coordinators.
func addCAFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "ca", "", "the cluster CA certificate (fabgrid-ca.pem) to verify https coordinators with (default $"+envCA+")")
}

// clientTLS reads the CA file named by --ca or $FABGRID_CA; nil when
// neither is set (the system's roots verify https coordinators then).
func clientTLS(caFile string) (*tls.Config, error) {
	if caFile == "" {
		caFile = os.Getenv(envCA)
	}
	if caFile == "" {
		return nil, nil
	}
	c, err := client.CAConfig(caFile)
	if err != nil {
		return nil, usageError("--ca: %w", err)
	}
	return c, nil
}

// tlsExplanation says what to do about a TLS mismatch with a coordinator.
func tlsExplanation(err error, caGiven bool) string {
	var ae *client.APIError
	switch {
	case errors.As(err, &ae):
		return fmt.Sprintf("coordinator at %s speaks TLS: use https:// in --coordinator or $%s, and give its CA with --ca or $%s", ae.Endpoint, envAddr, envCA)
	case isPlainServer(err):
		return fmt.Sprintf("%v — that coordinator does not speak TLS: use http:// for it", err)
	case !caGiven:
		return fmt.Sprintf("%v — the coordinator's certificate is not trusted: give the cluster CA (fabgrid-ca.pem) with --ca or $%s", err, envCA)
	}
	return fmt.Sprintf("%v — the coordinator's certificate is not signed by the CA in --ca or $%s, or does not name the address used", err, envCA)
}

// isPlainServer reports whether err is an https call answered in plain
// HTTP.
func isPlainServer(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh)
}
