//go:build !slicer

package main

// Shared plumbing of the commands that talk to a coordinator cluster
// (community, order, workers, cluster): the --coordinator/--token/--json
// flags, the client, subcommand dispatch, tables and readable errors.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

// Environment variables read by the remote commands.
const (
	envAddr  = "FABGRID_ADDR"
	envToken = "FABGRID_TOKEN"
	envCA    = "FABGRID_CA"
)

// remoteFlags are the flags every remote command has.
type remoteFlags struct {
	coordinator string
	token       string
	ca          string
	json        bool
	stale       bool
	endpoints   []string // filled by client()
}

func addRemoteFlags(fs *flag.FlagSet) *remoteFlags {
	rf := &remoteFlags{}
	fs.StringVar(&rf.coordinator, "coordinator", "", "coordinator URL(s), comma-separated; tried in turn (default $"+envAddr+", else "+client.DefaultAddr+")")
	fs.StringVar(&rf.token, "token", "", "bearer token: admin or community (default $"+envToken+")")
	fs.BoolVar(&rf.json, "json", false, "print machine-readable JSON instead of a table")
	addCAFlag(fs, &rf.ca)
	fs.BoolVar(&rf.stale, "stale", false, "read whatever the coordinator reached has, at once (may miss the latest writes; by default a read sees every write acknowledged before it)")
	return rf
}

// client builds the API client from the flags and the environment.
func (rf *remoteFlags) client() (*client.Client, error) {
	addr := rf.coordinator
	if addr == "" {
		addr = os.Getenv(envAddr)
	}
	if rf.token == "" {
		rf.token = os.Getenv(envToken)
	}
	tlsConf, err := clientTLS(rf.ca)
	if err != nil {
		return nil, err
	}
	c, err := client.New([]string{addr}, client.Options{Token: rf.token, TLS: tlsConf, Stale: rf.stale})
	if err != nil {
		return nil, usageError("--coordinator: %w", err)
	}
	rf.endpoints = c.Endpoints()
	return c, nil
}

// explain turns a client error into one line that says what to do. The
// original error stays reachable with errors.Is/As.
func (rf *remoteFlags) explain(err error) error {
	if msg := rf.explanation(err); msg != "" {
		return &explained{msg: msg, err: err}
	}
	return err
}

func (rf *remoteFlags) explanation(err error) string {
	var ae *client.APIError
	switch {
	case errors.Is(err, client.ErrUntrusted) || errors.As(err, &ae) && strings.Contains(ae.Message, "HTTPS server") ||
		errors.Is(err, client.ErrNoCoordinator) && isPlainServer(err):
		return tlsExplanation(err, rf.ca != "" || os.Getenv(envCA) != "")
	case errors.As(err, &ae) && ae.Status == 401 && rf.token == "":
		return fmt.Sprintf("coordinator at %s wants a token: 401 %s — pass --token or set %s", ae.Endpoint, ae.Code, envToken)
	case errors.As(err, &ae) && ae.Status == 401:
		return fmt.Sprintf("coordinator at %s refused the token: 401 %s — check --token or %s", ae.Endpoint, ae.Code, envToken)
	case errors.As(err, &ae) && ae.Status == 403:
		return fmt.Sprintf("coordinator at %s: 403 %s: %s (check which token --token or %s holds)", ae.Endpoint, ae.Code, ae.Message, envToken)
	case errors.As(err, &ae) && ae.Code == api.CodeNoLeader:
		return fmt.Sprintf("coordinator at %s: the cluster has no leader (%s) — a majority of coordinators must be up and connected; try again shortly", ae.Endpoint, ae.Message)
	case errors.As(err, &ae):
		msg := ae.Message
		if msg == "" {
			msg = "(no details)"
		}
		return fmt.Sprintf("coordinator at %s: %d %s: %s", ae.Endpoint, ae.Status, ae.Code, msg)
	case errors.Is(err, client.ErrNoCoordinator):
		var last error = err
		var op *net.OpError
		if errors.As(err, &op) {
			last = op.Err
		}
		return fmt.Sprintf("no coordinator reachable at %s (last: %v) — check --coordinator or %s and that a coordinator runs there",
			strings.Join(rf.endpoints, ", "), last, envAddr)
	}
	return ""
}

// explained is an error with a message for people in front of it.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// subcommand is one verb of a command group ("order submit").
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// dispatch runs the verb named by args[0] of a command group.
func dispatch(ctx context.Context, group string, subs map[string]subcommand, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	groupUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: fabgrid %s <%s> [flags]\n\n", group, strings.Join(names, "|"))
		for _, n := range names {
			fmt.Fprintf(w, "  %-16s %s\n", n, subs[n].summary)
		}
		fmt.Fprintf(w, "\nRun 'fabgrid %s <verb> --help' for its flags.\n", group)
	}
	if len(args) == 0 {
		groupUsage(stderr)
		return usageError("missing verb (one of %s)", strings.Join(names, ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		groupUsage(stderr)
		return flag.ErrHelp
	}
	sub, ok := subs[args[0]]
	if !ok {
		groupUsage(stderr)
		return usageError("unknown verb %q (one of %s)", args[0], strings.Join(names, ", "))
	}
	return sub.run(ctx, args[1:], stdout, stderr)
}

// printJSON writes v as indented JSON: the stable, machine-readable output.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

// printable returns s as it is when every character prints, and
// otherwise quoted with Go escapes ("w\x1b]0;x\a"), so a name a
// coordinator stored cannot move the cursor, retitle the terminal or
// break a table's columns.
func printable(s string) string {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		if c == "" {
			cols[i] = "-"
		}
		cols[i] = printable(cols[i])
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// humanBytes prints a size the way people read it.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ago prints how long ago t was, or "-" for the zero time.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
