package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// runFunc runs a command once its flags are parsed. args are the
// arguments left after the flags.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// A command is one "recur <name>" subcommand. Flag parsing (setup) is kept
// apart from the work (the runFunc it returns), which takes its options as a
// plain struct so tests can call it directly.
type command struct {
	Name      string
	UsageLine string // "recur name [flags] args"
	Short     string // one line for "recur help"
	Long      string // shown by "recur help name"
	// setup registers the command's flags on fs and returns the function
	// that runs it with the values fs will hold after parsing.
	setup func(fs *flag.FlagSet) runFunc
}

func (c *command) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.UsageLine, strings.TrimSpace(c.Long))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// noArgs wraps run so that it rejects positional arguments.
func noArgs(name string, run func(ctx context.Context, stdout, stderr io.Writer) error) runFunc {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) > 0 {
			return usagef("%s: unexpected argument %q", name, args[0])
		}
		return run(ctx, stdout, stderr)
	}
}
