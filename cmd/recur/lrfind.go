package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/recur-ml/recur/optim/lrfind"
)

var cmdLRFind = &command{
	Name:      "lr-find",
	UsageLine: "recur lr-find [train flags] [--find-steps N]",
	Short:     "find a learning rate with the range test",
	Long: `Lr-find prepares the model and data exactly as "recur train" would with
the same flags, then trains for --find-steps steps while the learning rate
grows exponentially from 1e-7 to 10, and prints the smoothed loss curve and
the suggested learning rate (the steepest descent of the loss, never below
the sweep's start). When the loss never fell, it says so and suggests
nothing. Nothing is saved; pass the suggestion to "recur train --lr".`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &trainOpts{}
		o.register(fs)
		fs.IntVar(&o.FindSteps, "find-steps", 100, "steps of the range test")
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) > 0 {
				return usagef("lr-find: unexpected argument %q", args[0])
			}
			if o.Config != "" {
				if err := applyConfig(fs, o.Config); err != nil {
					return err
				}
			}
			return runLRFind(ctx, o, stdout)
		}
	},
}

func runLRFind(ctx context.Context, o *trainOpts, stdout io.Writer) error {
	if o.FindSteps < 2 {
		return flagErr("find-steps", o.FindSteps, ">= 2")
	}
	if err := o.validate(); err != nil {
		return err
	}
	o.Quiet = true
	r := &runner{o: o, stdout: stdout, progress: io.Discard}
	j, err := r.job()
	if err != nil {
		return err
	}
	res, err := j.find(ctx, lrfind.Config{Steps: o.FindSteps})
	var nd *lrfind.NoDescentError
	if errors.As(err, &nd) {
		return fmt.Errorf("lr-find: %v (try --find-steps %d)", nd, 2*o.FindSteps)
	}
	if err != nil {
		return fitErr(err)
	}
	if o.JSON {
		return writeJSON(stdout, map[string]any{"suggested": res.Suggested, "min_loss_lr": res.MinLR, "steepest": res.Steepest,
			"diverged": res.Diverged, "lrs": res.LRs, "losses": res.Smoothed})
	}
	fmt.Fprintln(stdout, "lr          smoothed loss")
	step := max(1, len(res.LRs)/20)
	for k := 0; k < len(res.LRs); k += step {
		fmt.Fprintf(stdout, "%-11.3g %.5g\n", res.LRs[k], res.Smoothed[k])
	}
	fmt.Fprintf(stdout, "suggested --lr %.3g (steepest descent %.3g, lowest loss at %.3g)\n", res.Suggested, res.Steepest, res.MinLR)
	return nil
}
