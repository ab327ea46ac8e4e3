// Command mmconsole is the MM Console dashboard: go run . starts it on SQLite with the embedded
// sandbox Graph API; go run . --help lists every setting.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"mmconsole/internal/app"
	"mmconsole/internal/config"
)

func main() {
	cfg, err := config.LoadFromOS(os.Stderr)
	if errors.Is(err, config.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmconsole:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mmconsole:", err)
		os.Exit(1)
	}
}
