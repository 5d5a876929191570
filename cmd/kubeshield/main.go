// Command kubeshield secures Kubernetes workloads from build to runtime. See
// `kubeshield --help` and docs/.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/kubeshield/kubeshield/internal/cli"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT
// sets another: the garbage collector works harder near it, which keeps the
// peak on hostile images (a million entries) well under 512 MiB.
const defaultMemoryLimit = 320 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
