// Command leadsbench is the load benchmark of SPEC §8. It runs `leads serve` as a child
// process (so its memory is measured honestly), drives POST /api/v1/bookings at a fixed
// concurrency, and prints throughput, p50/p99 latency and RSS next to baselines measured
// in the same run on the same machine:
//
//   - bookings vs the bare insert of the same rows (lead + booking, one transaction each,
//     same driver, same concurrency), and on PostgreSQL also vs pgbench running the same
//     INSERTs (SPEC §8's baseline) when pgbench is installed;
//   - a rate-limited flood (one client IP, all 429) vs a bare net/http echo server;
//   - the RSS of leads serve idle and under the booking load (/proc/PID/status).
//
// Usage (from the repository; results and method in docs/benchmarks.md):
//
//	go run ./cmd/leadsbench -engine sqlite -clients 64 -duration 20s
//	go run ./cmd/leadsbench -engine postgres -clients 32 -duration 20s
//	go run ./cmd/leadsbench -engine postgres -phases bookings -cpuprofile cpu.out  # then go tool pprof -top cpu.out
//
// Traffic goes to 127.0.0.1 only. Client IPs for the booking load are sent in
// X-Forwarded-For (the child trusts 127.0.0.1 as a proxy) from 198.18.0.0/15, the range
// reserved for benchmarks, four bookings each so that the rate limit never refuses one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	engine   string
	clients  int
	duration time.Duration
	pgAdmin  string
	bin      string
	phases   string
	warmup   time.Duration
	profile  string
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-echo-server" {
		// the echo baseline runs as a child too, so that it competes for the CPU like leads does
		if err := echoServer(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "echo server:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "database engine: sqlite or postgres")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured time of each phase")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measured phase")
	flag.StringVar(&o.pgAdmin, "pg-admin", envOr("LEADS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server on which fresh benchmark databases are created and dropped")
	flag.StringVar(&o.bin, "bin", "", "leads binary to run (default: go build ./cmd/leads into a temp dir)")
	flag.StringVar(&o.phases, "phases", "bare,bookings,flood,echo",
		"comma list of phases: bare (Go bare-insert baseline; on postgres also pgbench), pgbench, bookings, flood, echo")
	flag.StringVar(&o.profile, "cpuprofile", "", "write the CPU profile of leads serve (its whole run: pick phases) to this file")
	flag.Parse()
	if o.engine != "sqlite" && o.engine != "postgres" {
		fail(errors.New("-engine must be sqlite or postgres"))
	}
	if o.clients < 1 || o.clients > 1024 {
		fail(errors.New("-clients must be between 1 and 1024"))
	}
	if o.duration <= 0 || o.duration > 10*time.Minute {
		fail(errors.New("-duration must be positive and at most 10m"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leadsbench:", err)
	os.Exit(1)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "leadsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	phase := phaseSet(o.phases)

	fmt.Fprintf(out, "leadsbench: engine=%s clients=%d duration=%s warmup=%s\n", o.engine, o.clients, o.duration, o.warmup)
	fmt.Fprintf(out, "machine: %s\n\n", machine())

	var bare, book, flood, echo *result
	if phase["bare"] {
		db, drop, err := freshDatabase(ctx, o, tmp, "bare")
		if err != nil {
			return err
		}
		bare, err = bareInserts(ctx, db, o)
		drop()
		if err != nil {
			return fmt.Errorf("bare insert: %w", err)
		}
		bare.print(out, "bare insert (lead+booking, 1 tx each)", "tx/s", nil)
	}

	var pgbenchTPS float64
	if phase["pgbench"] || (phase["bare"] && o.engine == "postgres") {
		if _, err := exec.LookPath("pgbench"); err != nil {
			fmt.Fprintf(out, "%-40s not run: pgbench is not installed\n", "pgbench baseline")
		} else {
			db, drop, err := freshDatabase(ctx, o, tmp, "pgbench")
			if err != nil {
				return err
			}
			tps, avg, err := pgbenchInserts(ctx, db, tmp, o)
			drop()
			if err != nil {
				return err
			}
			pgbenchTPS = tps
			fmt.Fprintf(out, "%-40s %8.0f tx/s  avg %6.2f ms\n", "pgbench, same rows (1 tx each)", tps, ms(avg))
		}
	}

	if phase["bookings"] || phase["flood"] {
		bin := o.bin
		if bin == "" {
			if bin, err = buildLeads(ctx, tmp); err != nil {
				return err
			}
		}
		db, drop, err := freshDatabase(ctx, o, tmp, "service")
		if err != nil {
			return err
		}
		defer drop()
		var env []string
		if o.profile != "" {
			abs, err := filepath.Abs(o.profile)
			if err != nil {
				return err
			}
			env = append(env, "LEADS_CPUPROFILE="+abs)
		}
		svc, err := startChild(ctx, bin, env, "serve", "--addr", "127.0.0.1:0", "--database", db, "--trusted-proxies", "127.0.0.1/32")
		if err != nil {
			return err
		}
		defer svc.stop()
		time.Sleep(2 * time.Second) // let start-up garbage be collected before the idle reading
		idle := svc.rss()
		client := newClient(o.clients)
		var peak int64
		if phase["bookings"] {
			sampler := svc.sampleRSS()
			mk := bookingRequest(svc.url) // one sequence: every booking a new lead
			load(ctx, o.warmup, o.clients, mk, client, nil)
			book = load(ctx, o.duration, o.clients, mk, client, expect(201))
			peak = sampler()
			book.print(out, "POST /api/v1/bookings", "req/s", bare)
		}
		if phase["flood"] {
			load(ctx, o.warmup, o.clients, floodRequest(svc.url), client, nil)
			flood = load(ctx, o.duration, o.clients, floodRequest(svc.url), client, expect(429))
			flood.print(out, "rate-limited flood, one IP (429)", "req/s", nil)
		}
		during := ""
		if peak > 0 {
			during = ", peak under the booking load " + mb(peak)
		}
		fmt.Fprintf(out, "%-40s idle %s%s (VmHWM over the run %s)\n", "leads serve RSS", mb(idle), during, mb(svc.status("VmHWM")))
		svc.stop()
		if o.profile != "" {
			fmt.Fprintf(out, "%-40s go tool pprof -top %s\n", "CPU profile of leads serve", o.profile)
		}
	}

	if phase["echo"] {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		srv, err := startChild(ctx, self, nil, "-echo-server")
		if err != nil {
			return err
		}
		client := newClient(o.clients)
		load(ctx, o.warmup, o.clients, echoRequest(srv.url), client, nil)
		echo = load(ctx, o.duration, o.clients, echoRequest(srv.url), client, expect(200))
		srv.stop()
		echo.print(out, "bare net/http echo (baseline)", "req/s", nil)
	}

	fmt.Fprintln(out)
	if bare != nil && book != nil {
		fmt.Fprintf(out, "bookings / bare insert (Go)   = %5.1f%%\n", 100*book.rate()/bare.rate())
	}
	if pgbenchTPS > 0 && book != nil {
		fmt.Fprintf(out, "bookings / pgbench            = %5.1f%%\n", 100*book.rate()/pgbenchTPS)
	}
	if flood != nil && echo != nil {
		fmt.Fprintf(out, "429 flood / net/http echo     = %5.1f%%\n", 100*flood.rate()/echo.rate())
	}
	return ctx.Err()
}

func phaseSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		m[strings.TrimSpace(p)] = true
	}
	return m
}

func expect(status int) func(*http.Response) error {
	return func(r *http.Response) error {
		if r.StatusCode != status {
			return fmt.Errorf("status %d, want %d", r.StatusCode, status)
		}
		return nil
	}
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := int64(0)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
				fmt.Sscan(v, &mem) // kB
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB memory, %s/%s, %s", runtime.NumCPU(), model, float64(mem)/(1<<20),
		runtime.GOOS, runtime.GOARCH, runtime.Version())
}
