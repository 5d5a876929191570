// Command kubeshield secures Kubernetes workloads from build to runtime. See
// `kubeshield --help` and docs/.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubeshield/kubeshield/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
