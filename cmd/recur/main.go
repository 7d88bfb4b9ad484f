// Command recur trains, evaluates and runs LSTM/GRU/RNN sequence models on a CPU.
//
// Usage:
//
//	recur <command> [flags] [arguments]
//
// Run "recur help" for the list of commands and "recur help <command>" for
// the flags of one. "recur train" with no arguments trains a forecaster on the
// embedded AirPassengers series in a few seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// commands lists every command in the order "recur help" shows them.
var commands = []*command{
	cmdTrain,
	cmdEval,
	cmdPredict,
	cmdGenerate,
	cmdServe,
	cmdInspect,
	cmdExport,
	cmdQuantize,
	cmdImport,
	cmdLRFind,
	cmdTune,
	cmdBench,
	cmdVersion,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := exitCode(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is an error in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelpShown means that help was printed on request: exit status 0.
var errHelpShown = errors.New("help shown")

// exitCode decides the process's exit status from the error a command
// returned, printing the error to stderr. It is the only place that maps
// errors to statuses: 0 success, 1 failure, 2 usage, 130 interrupted.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "recur: %v\n", err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "recur: interrupted: %v\n", err)
		return 130
	default:
		fmt.Fprintf(stderr, "recur: %v\n", err)
		return 1
	}
}

// runMain dispatches args to a command.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		return runHelp(args[1:], stdout)
	}
	c := lookup(name)
	if c == nil {
		return usagef("unknown command %q; run \"recur help\"", name)
	}
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp(stdout, fs)
			return errHelpShown
		}
		return usagef("%s: %v (run \"recur help %s\")", c.Name, err, c.Name)
	}
	return run(ctx, fs.Args(), stdout, stderr)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "recur trains, evaluates and runs LSTM/GRU/RNN sequence models on a CPU.\n\nUsage:\n\n\trecur <command> [flags] [arguments]\n\nThe commands are:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-10s %s\n", c.Name, c.Short)
	}
	fmt.Fprint(w, "\nUse \"recur help <command>\" for more information about a command.\n")
}

func runHelp(args []string, stdout io.Writer) error {
	switch len(args) {
	case 0:
		printUsage(stdout)
		return nil
	case 1:
		c := lookup(args[0])
		if c == nil {
			return usagef("help: unknown command %q", args[0])
		}
		fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
		c.setup(fs)
		c.printHelp(stdout, fs)
		return nil
	default:
		return usagef("help: too many arguments; usage: recur help [command]")
	}
}
