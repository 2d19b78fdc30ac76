//go:build !slicer

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

func init() {
	register(command{name: "community", summary: "create and list communities (admin)", run: runCommunity})
}

func runCommunity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatch(ctx, "community", map[string]subcommand{
		"create": {"create a community and print its token once", runCommunityCreate},
		"list":   {"list the communities with their weight and order count", runCommunityList},
	}, args, stdout, stderr)
}

func runCommunityCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("community create", "community create NAME [--weight W] [flags]",
		"Creates a community (admin token) and prints its token. The token is shown only\n"+
			"this once: give it to the community's members, who pass it with --token or\n"+
			"FABGRID_TOKEN to submit and follow their orders. The weight is the community's\n"+
			"fair share of the printers relative to the others (default 1).", stderr)
	rf := addRemoteFlags(fs)
	weight := fs.Float64("weight", 1, "fair-share weight (> 0)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return usageError("create: want exactly one NAME, got %d arguments", len(pos))
	}
	if *weight <= 0 {
		return usageError("create: --weight must be > 0, got %v", *weight)
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	cc, err := c.CreateCommunity(ctx, pos[0], *weight)
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		return printJSON(stdout, cc)
	}
	_, err = fmt.Fprintf(stdout, "community %s created (weight %s)\ntoken: %s\n"+
		"This token is shown only once: keep it. Members use it with --token or %s.\n",
		cc.Name, strconv.FormatFloat(cc.Weight, 'f', -1, 64), cc.Token, envToken)
	return err
}

func runCommunityList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("community list", "community list [flags]", "Lists the communities (admin token).", stderr)
	rf := addRemoteFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("list: unexpected argument %q", pos[0])
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	list, err := c.Communities(ctx)
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		if list == nil {
			list = []api.Community{}
		}
		return printJSON(stdout, api.Communities{Communities: list})
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(stdout, "no communities yet: create one with 'fabgrid community create NAME'")
		return err
	}
	t := newTable(stdout, "NAME", "WEIGHT", "ORDERS")
	for _, cm := range list {
		t.row(cm.Name, strconv.FormatFloat(cm.Weight, 'f', -1, 64), strconv.Itoa(cm.Orders))
	}
	return t.flush()
}
