package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

// pageFlags are the flags of every list command: one page by default,
// --all for every item.
type pageFlags struct {
	fs     *flag.FlagSet
	state  *string
	limit  *int
	cursor *string
	all    *bool
}

func addPageFlags(fs *flag.FlagSet, what string, states []string) *pageFlags {
	return &pageFlags{
		fs:     fs,
		state:  fs.String("state", "", "only "+what+" in these states, comma-separated ("+strings.Join(states, ", ")+")"),
		limit:  fs.Int("limit", 0, fmt.Sprintf("%s per page, 1 to %d (default: the coordinator's, %d)", what, api.MaxPageLimit, api.DefaultPageLimit)),
		cursor: fs.String("cursor", "", "start after the page that printed this cursor"),
		all:    fs.Bool("all", false, "every page, not just one"),
	}
}

func (p *pageFlags) options(consistent bool) (client.ListOptions, error) {
	if *p.limit < 0 || *p.limit > api.MaxPageLimit || p.set("limit") && *p.limit == 0 {
		return client.ListOptions{}, usageError("--limit %d: want 1 to %d", *p.limit, api.MaxPageLimit)
	}
	o := client.ListOptions{Limit: *p.limit, Cursor: *p.cursor, Consistent: consistent}
	if *p.state != "" {
		o.State = strings.Split(*p.state, ",")
	}
	return o, nil
}

// set reports whether the flag name was given.
func (p *pageFlags) set(name string) bool {
	found := false
	p.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// more tells how to get the next page, after a table.
func (p *pageFlags) more(w io.Writer, command, next string) error {
	if next == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "more: fabgrid %s --cursor %s (or --all)\n", command, next)
	return err
}
