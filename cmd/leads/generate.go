package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/norsedigital/leads/internal/generate"
)

// generateCmd is "leads generate --count N [--seed S]": it fills the configured database
// with N synthetic, realistic leads (generate.Leads) for demos and benchmarks. A run with a
// seed already used on that database is refused (the same seed makes the same emails).
func generateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := newConfig(getenv)
	fs := cfg.flags(stderr)
	count := fs.Int("count", 1000, "number of leads to add")
	seed := fs.Int64("seed", 0, "random seed; the same seed makes the same leads (default: from the clock)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *count < 1 {
		return fmt.Errorf("--count must be at least 1")
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewJSONHandler(stderr, nil)), time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	shown := 0
	err = generate.Leads(ctx, st, *count, generate.Options{Seed: *seed, Progress: func(done int) {
		if done-shown >= *count/10 || done == *count {
			shown = done
			fmt.Fprintf(stderr, "%d/%d leads, %s\n", done, *count, time.Since(start).Round(time.Second))
		}
	}})
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "generated %d leads in %s (%.0f/s, seed %d)\n", *count, d.Round(time.Millisecond), float64(*count)/d.Seconds(), *seed)
	return nil
}
