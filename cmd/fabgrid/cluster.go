//go:build !slicer

package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

func init() {
	register(command{name: "cluster", summary: "coordinator cluster status and membership (admin)", run: runCluster})
}

func runCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatch(ctx, "cluster", map[string]subcommand{
		"status":          {"show the coordinators, the leader, term and indexes", runClusterStatus},
		"join":            {"add a coordinator as a voter", runClusterJoin},
		"remove":          {"remove a coordinator from the cluster", runClusterRemove},
		"transfer-leader": {"hand leadership to another coordinator", runClusterTransfer},
		"snapshot":        {"save, inspect or restore a backup of the cluster (state and models)", runClusterSnapshot},
	}, args, stdout, stderr)
}

// clusterVerb parses a cluster verb's flags and positional arguments.
func clusterVerb(verb, usageLine, help string, args []string, stderr io.Writer, define func(*flag.FlagSet)) (*remoteFlags, []string, error) {
	fs := newFlags("cluster "+verb, usageLine, help, stderr)
	rf := addRemoteFlags(fs)
	if define != nil {
		define(fs)
	}
	pos, err := parseInterspersed(fs, args)
	return rf, pos, err
}

func runClusterStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var consistent bool
	rf, pos, err := clusterVerb("status", "cluster status [flags]",
		"Shows the coordinators (raft and HTTP addresses, suffrage), the leader, the term,\n"+
			"and the commit and applied indexes (admin token).", args, stderr, func(fs *flag.FlagSet) {
			fs.BoolVar(&consistent, "consistent", false, "ask the leader (fails without a majority)")
		})
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("status: unexpected argument %q", pos[0])
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	cl, err := c.Cluster(ctx, consistent)
	if err != nil {
		return rf.explain(err)
	}
	return printCluster(stdout, rf, cl)
}

func printCluster(w io.Writer, rf *remoteFlags, cl *api.Cluster) error {
	if rf.json {
		if cl.Nodes == nil {
			cl.Nodes = []api.ClusterNode{}
		}
		return printJSON(w, cl)
	}
	leader := cl.Leader
	if leader == "" {
		leader = "none (no majority?)"
	}
	fmt.Fprintf(w, "leader %s, term %d, commit index %d, applied index %d\n\n", leader, cl.Term, cl.CommitIndex, cl.AppliedIndex)
	t := newTable(w, "ID", "RAFT", "HTTP", "SUFFRAGE", "LEADER")
	for _, n := range cl.Nodes {
		l := ""
		if n.Leader {
			l = "*"
		}
		t.row(n.ID, n.RaftAddr, n.HTTPAddr, n.Suffrage, l)
	}
	return t.flush()
}

func runClusterJoin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req api.JoinRequest
	rf, pos, err := clusterVerb("join", "cluster join --id ID --raft HOST:PORT --http HOST:PORT [flags]",
		"Adds a coordinator as a voter (admin token). A coordinator started with --join\n"+
			"does this itself; use this to add one by hand.", args, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&req.ID, "id", "", "node id of the new coordinator (required)")
			fs.StringVar(&req.RaftAddr, "raft", "", "its raft address host:port (required)")
			fs.StringVar(&req.HTTPAddr, "http", "", "its HTTP API address host:port (required)")
		})
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("join: unexpected argument %q", pos[0])
	}
	if req.ID == "" || req.RaftAddr == "" || req.HTTPAddr == "" {
		return usageError("join: --id, --raft and --http are all required")
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	cl, err := c.JoinCluster(ctx, req)
	if err != nil {
		return rf.explain(err)
	}
	return printCluster(stdout, rf, cl)
}

func runClusterRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, pos, err := clusterVerb("remove", "cluster remove ID [flags]",
		"Removes a coordinator from the cluster (admin token). Removing the leader makes\n"+
			"it step down first.", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError("remove: want exactly one node ID, got %d arguments", len(pos))
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	cl, err := c.RemoveNode(ctx, pos[0])
	if err != nil {
		return rf.explain(err)
	}
	return printCluster(stdout, rf, cl)
}

func runClusterTransfer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, pos, err := clusterVerb("transfer-leader", "cluster transfer-leader [ID] [flags]",
		"Hands leadership to the coordinator ID, or to the most up-to-date other voter\n"+
			"when no ID is given (admin token), e.g. before maintenance on the leader.", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("transfer-leader: want at most one node ID, got %d arguments", len(pos))
	}
	id := ""
	if len(pos) == 1 {
		id = pos[0]
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	cl, err := c.TransferLeader(ctx, id)
	if err != nil {
		return rf.explain(err)
	}
	return printCluster(stdout, rf, cl)
}
