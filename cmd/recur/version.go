package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/recur-ml/recur/internal/kernel"
)

var cmdVersion = &command{
	Name:      "version",
	UsageLine: "recur version",
	Short:     "print recur's version, the Go version and the kernel backend",
	Long: `Version prints the module version recur was built from (or "(devel)"),
the Go toolchain version, GOOS/GOARCH, and which assembly (AVX-512 or AVX2/FMA)
kernels are in use on this CPU.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return noArgs("version", func(_ context.Context, stdout, _ io.Writer) error {
			return runVersion(stdout)
		})
	},
}

func runVersion(stdout io.Writer) error {
	v := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		if v == "" {
			v = "(devel)"
		}
	}
	kern := "pure Go"
	if kernel.HasAsm() {
		kern = kernel.ISA() + " assembly"
	}
	_, err := fmt.Fprintf(stdout, "recur %s %s %s/%s kernels: %s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, kern)
	return err
}
