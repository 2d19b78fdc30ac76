//go:build !slicer

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/gossip"
)

func init() {
	register(command{name: "coordinator", summary: "run a coordinator (Raft-replicated orders, fleet state, HTTP API)", run: runCoordinator})
}

func runCoordinator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("coordinator", "coordinator --node-id c1 --data-dir DIR (--bootstrap | --join URL) [flags]",
		"Runs one coordinator. The first node of a cluster starts with --bootstrap (printing a new admin and\n"+
			"worker token once unless given); the others start with --join URL --admin-token T. A node restarted\n"+
			"from its data dir rejoins and catches up without either flag. Ctrl-C stops it gracefully (a leader\n"+
			"hands leadership to another node first).", stderr)
	nodeID := fs.String("node-id", "", "this coordinator's unique ID (required)")
	dataDir := fs.String("data-dir", "", "directory for the raft log and snapshots (required)")
	httpAddr := fs.String("http", "127.0.0.1:8740", "HTTP API listen address")
	raftAddr := fs.String("raft", "127.0.0.1:8741", "raft TCP listen address")
	gossipAddr := fs.String("gossip", "127.0.0.1:8742", "gossip (memberlist) listen address")
	bootstrap := fs.Bool("bootstrap", false, "start a new cluster with this node")
	join := fs.String("join", "", "URL(s) of existing coordinators to join, comma-separated")
	adminToken := fs.String("admin-token", os.Getenv("FABGRID_ADMIN_TOKEN"), "admin token (default $FABGRID_ADMIN_TOKEN; generated at bootstrap when empty)")
	workerToken := fs.String("worker-token", "", "grid-wide worker token (generated at bootstrap when empty)")
	lostAfter := fs.Duration("lost-after", coordinator.DefaultLostAfter, "requeue a job whose holder sent no progress report for it this long (heartbeats do not count)")
	maxModel := fs.String("max-model-size", "64MiB", "largest accepted model (bytes, or with KiB/MiB/GiB)")
	jsonOut := fs.Bool("json", false, "JSON logs and JSON token output")
	tf := addCoordinatorTLSFlags(fs)
	sf := addCoordinatorSecretFlags(fs)
	lf := addCoordinatorLimitFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *nodeID == "" || *dataDir == "" {
		return &exitError{2, errors.New("--node-id and --data-dir are required")}
	}
	maxBytes, err := parseSize(*maxModel)
	if err != nil {
		return &exitError{2, fmt.Errorf("--max-model-size: %w", err)}
	}
	_, statErr := os.Stat(filepath.Join(*dataDir, "raft.db"))
	existing := statErr == nil
	for _, pair := range [][2]string{{"admin-token", "admin-token-file"}, {"worker-token", "worker-token-file"}} {
		if flagGiven(fs, pair[0]) && flagGiven(fs, pair[1]) {
			return usageError("--%s and --%s exclude each other", pair[0], pair[1])
		}
	}
	metricsToken, err := sf.load(!existing && *bootstrap, adminToken, workerToken)
	if err != nil {
		return err
	}
	for _, f := range []struct{ flag, tok, prefix string }{
		{"--admin-token", *adminToken, api.AdminTokenPrefix},
		{"--worker-token", *workerToken, api.WorkerTokenPrefix},
	} {
		if f.tok == "" {
			continue
		}
		if err := api.CheckToken(f.tok, f.prefix); err != nil {
			return &exitError{2, fmt.Errorf("%s: %w; leave it out at --bootstrap to have one generated", f.flag, err)}
		}
	}
	if !existing && !*bootstrap && *join == "" {
		return &exitError{2, errors.New("no state in --data-dir: start the first node with --bootstrap, the others with --join URL")}
	}
	if *bootstrap && *join != "" {
		return &exitError{2, errors.New("--bootstrap and --join exclude each other")}
	}
	if !existing && *join != "" && *adminToken == "" {
		return &exitError{2, errors.New("--join needs --admin-token-file FILE (or $FABGRID_ADMIN_TOKEN): the cluster's admin token")}
	}

	tlsConf, err := tf.load()
	if err != nil {
		return err
	}

	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if *jsonOut {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(handler)

	newTokens := map[string]string{}
	if !existing && *bootstrap {
		if *adminToken == "" {
			*adminToken = coordinator.NewToken(api.AdminTokenPrefix)
			newTokens["admin_token"] = *adminToken
		}
		if *workerToken == "" {
			*workerToken = coordinator.NewToken(api.WorkerTokenPrefix)
			newTokens["worker_token"] = *workerToken
		}
	}
	cfg := coordinator.Config{
		NodeID: *nodeID, DataDir: *dataDir, HTTPAddr: *httpAddr, RaftAddr: *raftAddr,
		Bootstrap: *bootstrap, AdminToken: *adminToken, WorkerToken: *workerToken,
		LostAfter: *lostAfter, MaxModelSize: maxBytes, Logger: log, RaftLogOutput: stderr,
		TLS: tlsConf, Insecure: tf.insecure, MetricsToken: metricsToken,
	}
	if err := lf.apply(&cfg); err != nil {
		return err
	}
	if *join != "" {
		for _, u := range strings.Split(*join, ",") {
			if u = strings.TrimSpace(u); u != "" {
				if !strings.Contains(u, "://") {
					u = tf.scheme() + "://" + u
				}
				cfg.Join = append(cfg.Join, u)
			}
		}
	}
	if err := sf.save(newTokens); err != nil {
		return err
	}
	node, err := coordinator.New(cfg)
	if errors.Is(err, coordinator.ErrInsecure) {
		return &exitError{2, err}
	}
	if err != nil {
		return err
	}
	if len(newTokens) > 0 {
		if *jsonOut {
			_ = json.NewEncoder(stdout).Encode(newTokens)
		} else {
			fmt.Fprintf(stdout, "New cluster. These tokens are shown once; only their hashes are kept:\n")
			if t := newTokens["admin_token"]; t != "" {
				fmt.Fprintf(stdout, "  admin token:  %s\n", t)
			}
			if t := newTokens["worker_token"]; t != "" {
				fmt.Fprintf(stdout, "  worker token: %s\n", t)
			}
		}
	}
	var g *gossip.Coordinator
	if *gossipAddr != "" {
		if g, err = startGossip(*gossipAddr, node, log); err != nil {
			log.Warn("gossip unavailable; worker heartbeats alone decide leases", "err", err)
		}
	}
	log.Info("coordinator ready", "node", *nodeID, "http", node.HTTPAddr(), "raft", node.RaftAddr())
	<-ctx.Done()
	log.Info("shutting down")
	if g != nil {
		g.Close()
	}
	done := make(chan error, 1)
	go func() { done <- node.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("shutdown took over 15 s; exiting anyway")
	}
}

// startGossip starts the coordinator's gossip node at addr and feeds the
// workers' joins, suspicions and deaths to node. The shared key comes
// from $FABGRID_GOSSIP_KEY (the same value the workers pass as
// --gossip-key), and other coordinators to join from $FABGRID_GOSSIP_JOIN
// (HOST:PORT, comma-separated); failing to join them is logged.
func startGossip(addr string, node *coordinator.Node, log *slog.Logger) (*gossip.Coordinator, error) {
	var key []byte
	if s := os.Getenv("FABGRID_GOSSIP_KEY"); s != "" {
		k, err := gossip.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("$FABGRID_GOSSIP_KEY: %w", err)
		}
		key = k
	}
	g, err := gossip.StartCoordinator(node, addr, key, workerSplit(os.Getenv("FABGRID_GOSSIP_JOIN")), log.With("component", "gossip"))
	if g == nil {
		return nil, err
	}
	if err != nil {
		log.Warn("cannot join the other coordinators' gossip; workers joining us still connect the pool", "err", err)
	}
	log.Info("gossip listening", "addr", g.Node.Addr())
	return g, nil
}

// parseSize reads "64MiB", "512KiB", "1GiB", "1048576".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 64MiB", s)
	}
	return n * mult, nil
}
