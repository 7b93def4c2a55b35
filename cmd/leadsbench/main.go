// Command leadsbench is the load benchmark of SPEC §8. It runs `leads serve` as a child
// process, drives POST /api/v1/bookings at a fixed concurrency, and prints, for every
// phase, throughput, p50/p99 latency, the server's CPU time per request (utime + stime
// of the server process over the phase ÷ answered requests, from /proc/PID/stat) and its
// peak RSS (VmHWM), next to the baselines SPEC §8 defines, measured in the same run and
// alternating with ours (peer, us, peer, us) so that the machine's noise hits both:
//
//   - SQLite: the bare SQLite loop (one goroutine, prepared INSERT lead + INSERT booking
//     in one transaction per booking, same driver and pragmas, the seed's six indexes),
//     and PocketBase v0.39.11 with a leads collection, loaded by the same generator and
//     bodies as our bookings;
//   - PostgreSQL: pgbench -n -M prepared -j 2 -c CLIENTS with BEGIN; INSERT lead;
//     INSERT booking; COMMIT;
//   - a rate-limited flood (one client IP, all 429) vs a bare net/http echo server;
//   - the RSS of leads serve idle and under the booking load.
//
// Usage (from the repository; results and method in docs/benchmarks.md):
//
//	go run ./cmd/leadsbench -engine sqlite -clients 8
//	go run ./cmd/leadsbench -engine sqlite -clients 64
//	go run ./cmd/leadsbench -engine postgres -clients 32
//	go run ./cmd/leadsbench -phases bookings -rounds 1 -cpuprofile cpu.out  # then go tool pprof -top cpu.out
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
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	engine     string
	clients    int
	rounds     int
	duration   time.Duration
	pgAdmin    string
	bin        string
	pocketbase string
	phases     string
	warmup     time.Duration
	profile    string
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
	if len(os.Args) >= 2 && os.Args[1] == "-bare-loop" {
		// the bare SQLite loop runs as a child too, so that its CPU time and RSS are its own
		if err := bareLoopChild(context.Background(), os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bare loop:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "-store-floor" {
		// the store floor runs as a child too, so that its CPU time and RSS are its own
		if err := floorChild(context.Background(), os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "store floor:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "database engine: sqlite or postgres")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.IntVar(&o.rounds, "rounds", 2, "times each peer and our phase after it run (peer, us, peer, us)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured time of each phase")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measured phase")
	flag.StringVar(&o.pgAdmin, "pg-admin", envOr("LEADS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server on which fresh benchmark databases are created and dropped")
	flag.StringVar(&o.bin, "bin", "", "leads binary to run (default: go build ./cmd/leads into a temp dir)")
	flag.StringVar(&o.pocketbase, "pocketbase", "", "PocketBase binary (default: go install "+pocketBaseModule+" into a temp dir)")
	flag.StringVar(&o.phases, "phases", "bare,pocketbase,pgbench,floor,bookings,echo,flood",
		"comma list of phases: bare (the bare SQLite loop), pocketbase (SQLite only), pgbench (PostgreSQL only), floor (the store without HTTP), bookings, echo, flood")
	flag.StringVar(&o.profile, "cpuprofile", "", "CPU profile of leads serve in each bookings phase (start-up and warm-up included): FILE, FILE.2, …")
	flag.Parse()
	if o.engine != "sqlite" && o.engine != "postgres" {
		fail(errors.New("-engine must be sqlite or postgres"))
	}
	if o.clients < 1 || o.clients > 1024 {
		fail(errors.New("-clients must be between 1 and 1024"))
	}
	if o.rounds < 1 || o.rounds > 20 {
		fail(errors.New("-rounds must be between 1 and 20"))
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

// measure is one phase: the client's view and the server's cost.
type measure struct {
	r     *result
	cpu   time.Duration // CPU time (utime + stime) of the server process over the phase
	dbCPU time.Duration // PostgreSQL: CPU time of the phase database's backends
	hwm   int64         // peak RSS of the server process (VmHWM), 0 when it is not one process
	idle  int64         // leads serve: RSS 2 s after start
}

// cpuPerReq is the server's CPU time per answered request in µs (leads + PostgreSQL on postgres).
func (m *measure) cpuPerReq() float64 {
	if m.r.ops == 0 {
		return 0
	}
	return float64((m.cpu + m.dbCPU).Microseconds()) / float64(m.r.ops)
}

func (m *measure) print(out io.Writer, label, unit string) {
	fmt.Fprintf(out, "%-34s %7.0f %-5s p50 %6.2f ms  p99 %7.2f ms  CPU %5.0f µs/req", label, m.r.rate(), unit,
		ms(m.r.p50), ms(m.r.p99), m.cpuPerReq())
	if m.dbCPU > 0 && m.cpu > 0 {
		fmt.Fprintf(out, " (server %.0f + PostgreSQL %.0f)", float64(m.cpu.Microseconds())/float64(m.r.ops),
			float64(m.dbCPU.Microseconds())/float64(m.r.ops))
	}
	if m.hwm > 0 {
		fmt.Fprintf(out, "  peak RSS %s", mb(m.hwm))
	}
	if m.idle > 0 {
		fmt.Fprintf(out, " (idle %s)", mb(m.idle))
	}
	if m.r.errs > 0 {
		fmt.Fprintf(out, "  %d errors, first: %v", m.r.errs, m.r.firstErr)
	}
	fmt.Fprintln(out)
}

// pair is a peer's phase and our phase right after it.
type pair struct {
	peer   string
	p, us  *measure
	round  int
	target float64 // SPEC's throughput ratio
}

func run(ctx context.Context, o options, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "leadsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	phase := phaseSet(o.phases)
	sqlite := o.engine == "sqlite"
	phase["bare"] = phase["bare"] && sqlite
	phase["pocketbase"] = phase["pocketbase"] && sqlite
	phase["pgbench"] = phase["pgbench"] && !sqlite
	if phase["pgbench"] {
		if _, err := exec.LookPath("pgbench"); err != nil {
			return errors.New("pgbench is not installed (or leave it out of -phases)")
		}
	}

	fmt.Fprintf(out, "leadsbench: engine=%s clients=%d rounds=%d duration=%s warmup=%s\n", o.engine, o.clients, o.rounds,
		o.duration, o.warmup)
	fmt.Fprintf(out, "machine: %s\nload average at start: %s\n\n", machine(), loadavg())

	leadsBin, pbBin := o.bin, o.pocketbase
	if leadsBin == "" && (phase["bookings"] || phase["flood"]) {
		if leadsBin, err = buildLeads(ctx, tmp); err != nil {
			return err
		}
	}
	if pbBin == "" && phase["pocketbase"] {
		if pbBin, err = buildPocketBase(ctx, tmp); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	seq := 0
	next := func(name string) string { seq++; return fmt.Sprintf("%s%d", name, seq) }
	profiles := 0
	// leads runs one leads serve on a fresh database and measures it under mk's load.
	leads := func(mk func(string) func() *http.Request, status int, profile bool) (*measure, error) {
		dbURL, drop, err := freshDatabase(ctx, o, tmp, next("leads"))
		if err != nil {
			return nil, err
		}
		defer drop()
		var env []string
		if profile && o.profile != "" {
			abs, err := filepath.Abs(o.profile)
			if err != nil {
				return nil, err
			}
			if profiles++; profiles > 1 {
				abs += "." + strconv.Itoa(profiles)
			}
			env = append(env, "LEADS_CPUPROFILE="+abs)
		}
		svc, err := startChild(ctx, leadsBin, env, "serve", "--addr", "127.0.0.1:0", "--database", dbURL,
			"--trusted-proxies", "127.0.0.1/32", "--pow-maxnumber", strconv.Itoa(BenchPowMaxNumber))
		if err != nil {
			return nil, err
		}
		defer svc.stop()
		time.Sleep(2 * time.Second) // let start-up garbage be collected before the idle reading
		idle := svc.rss()
		m := serverPhase(ctx, o, svc, mk(svc.url), status, postgresDB(dbURL))
		m.idle = idle
		return m, nil
	}
	bookings := func(round int) (*measure, error) {
		// each booking carries a solved challenge, fetched and solved ahead by two goroutines
		solving, stopSolving := context.WithCancel(ctx)
		defer stopSolving()
		m, err := leads(func(u string) func() *http.Request {
			return bookingRequest(u+"/api/v1/bookings", solver(solving, u, 2))
		}, 201, true)
		if err != nil {
			return nil, err
		}
		m.print(out, fmt.Sprintf("%d leads POST /api/v1/bookings", round), "req/s")
		return m, nil
	}

	var pairs []pair
	var books, floods, echos []*measure
	var floors []floorRound
	floor := func(round int, base *measure) error {
		f, err := storeFloor(ctx, o, tmp, next("floor"))
		if err != nil {
			return err
		}
		f.print(out, fmt.Sprintf("%d store floor (Book, no HTTP)", round), "tx/s")
		floors = append(floors, floorRound{round: round, floor: f, base: base})
		return nil
	}
	for round := 1; round <= o.rounds; round++ {
		ran := false
		var base *measure // this round's bare loop or pgbench, for the floor's ratio
		for _, peer := range []string{"bare", "pocketbase", "pgbench"} {
			if !phase[peer] {
				continue
			}
			var p *measure
			var target float64
			switch peer {
			case "bare":
				if p, err = bareLoop(ctx, o, tmp, next("bare")); err != nil {
					return err
				}
				p.print(out, fmt.Sprintf("%d bare SQLite loop (1 goroutine)", round), "tx/s")
				base = p
				target = 0.5
				if o.clients >= 64 {
					target = 0.75
				}
			case "pocketbase":
				pb, err := startPocketBase(ctx, pbBin, filepath.Join(tmp, next("pb")))
				if err != nil {
					return err
				}
				p = serverPhase(ctx, o, pb, bookingRequest(pb.url+"/api/collections/leads/records", nil), 200, "")
				pb.stop()
				p.print(out, fmt.Sprintf("%d PocketBase record create", round), "req/s")
				target = 1.25
			case "pgbench":
				if p, err = pgbenchPhase(ctx, o, tmp, next("pgbench")); err != nil {
					return err
				}
				p.print(out, fmt.Sprintf("%d pgbench -M prepared -j 2 -c %d", round, o.clients), "tx/s")
				base = p
				target = 0.5
			}
			if peer != "pocketbase" && phase["floor"] {
				if err := floor(round, base); err != nil {
					return err
				}
			}
			if !phase["bookings"] {
				continue
			}
			us, err := bookings(round)
			if err != nil {
				return err
			}
			books = append(books, us)
			pairs = append(pairs, pair{peer: peer, p: p, us: us, round: round, target: target})
			ran = true
		}
		if phase["floor"] && !phase["bare"] && !phase["pgbench"] {
			if err := floor(round, nil); err != nil {
				return err
			}
		}
		if phase["bookings"] && !ran {
			us, err := bookings(round)
			if err != nil {
				return err
			}
			books = append(books, us)
		}
		if phase["echo"] {
			srv, err := startChild(ctx, self, nil, "-echo-server")
			if err != nil {
				return err
			}
			m := serverPhase(ctx, o, srv, echoRequest(srv.url), 200, "")
			srv.stop()
			m.print(out, fmt.Sprintf("%d bare net/http echo", round), "req/s")
			echos = append(echos, m)
		}
		if phase["flood"] {
			m, err := leads(floodRequest, 429, false)
			if err != nil {
				return err
			}
			m.print(out, fmt.Sprintf("%d leads flood, one IP (429)", round), "req/s")
			floods = append(floods, m)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nload average at the end: %s\n\n", loadavg())
	summarize(out, o, pairs, books, floods, echos)
	summarizeFloors(out, o, floors, pairs)
	if o.profile != "" && profiles > 0 {
		fmt.Fprintf(out, "\nCPU profiles of leads serve: go tool pprof -top %s (and .2, … for later phases)\n", o.profile)
	}
	return ctx.Err()
}

// serverPhase warms a server up, then measures mk's load on it: the client's view, the
// server process's CPU time and VmHWM, and on PostgreSQL the CPU time of database's backends.
func serverPhase(ctx context.Context, o options, srv *child, mk func() *http.Request, status int, database string) *measure {
	client := newClient(o.clients)
	defer client.CloseIdleConnections()
	load(ctx, o.warmup, o.clients, mk, client, nil)
	var pg func() time.Duration
	if database != "" {
		pg = backendCPU(database)
	}
	cpu0 := srv.cpu()
	r := load(ctx, o.duration, o.clients, mk, client, expect(status))
	m := &measure{r: r, cpu: srv.cpu() - cpu0, hwm: srv.status("VmHWM")}
	if pg != nil {
		m.dbCPU = pg()
	}
	return m
}

// postgresDB is the database name of a postgres:// URL, "" for SQLite.
func postgresDB(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// summarize prints each pair's ratios and SPEC §8's targets, judged on the worst round.
func summarize(out io.Writer, o options, pairs []pair, books, floods, echos []*measure) {
	names := map[string]string{"bare": "bare SQLite loop", "pocketbase": "PocketBase", "pgbench": "pgbench"}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	for _, peer := range []string{"bare", "pocketbase", "pgbench"} {
		worst, worstCPU, n := 0.0, 0.0, 0
		p99ok := true
		for _, p := range pairs {
			if p.peer != peer {
				continue
			}
			ratio, cpu := p.us.r.rate()/p.p.r.rate(), p.us.cpuPerReq()/p.p.cpuPerReq()
			fmt.Fprintf(out, "round %d: bookings / %-16s = %4.2f× the throughput, %4.2f× the CPU per request, p99 %.1f vs %.1f ms\n",
				p.round, names[peer], ratio, cpu, ms(p.us.r.p99), ms(p.p.r.p99))
			if n == 0 || ratio < worst {
				worst = ratio
			}
			worstCPU = max(worstCPU, cpu)
			p99ok = p99ok && p.us.r.p99 < p.p.r.p99
			n++
		}
		if n == 0 {
			continue
		}
		target := pairs[0].target
		for _, p := range pairs {
			if p.peer == peer {
				target = p.target
			}
		}
		fmt.Fprintf(out, "  target: ≥ %.2f× %s (SPEC §8%s): worst round %.2f× — %s\n", target, names[peer],
			map[string]string{"bare": ": 0.5× at 8 clients, 0.75× at 64", "pocketbase": "", "pgbench": ", at 32 clients"}[peer],
			worst, verdict(worst >= target))
		if peer == "pocketbase" {
			fmt.Fprintf(out, "  target: less server CPU per request than PocketBase: worst round %.2f× — %s\n", worstCPU,
				verdict(worstCPU < 1))
			if o.clients >= 64 {
				fmt.Fprintf(out, "  target: p99 below PocketBase's at 64 clients — %s\n", verdict(p99ok))
			}
		}
	}
	if len(books) > 0 {
		var p99 time.Duration
		var idleMax, peakMax int64
		for _, b := range books {
			p99 = max(p99, b.r.p99)
			idleMax, peakMax = max(idleMax, b.idle), max(peakMax, b.hwm)
		}
		if o.clients <= 8 {
			fmt.Fprintf(out, "  target: bookings p99 < 25 ms at 8 clients: worst %.1f ms — %s\n", ms(p99), verdict(p99 < 25*time.Millisecond))
		}
		fmt.Fprintf(out, "  target: leads serve RSS < 30 MB idle, < 100 MB under the booking load: %s / %s — %s\n",
			mb(idleMax), mb(peakMax), verdict(idleMax < 30<<20 && peakMax < 100<<20))
	}
	for i := range min(len(floods), len(echos)) {
		fmt.Fprintf(out, "round %d: 429 flood / net/http echo = %4.2f× (target ≥ 0.25×) — %s\n", i+1,
			floods[i].r.rate()/echos[i].r.rate(), verdict(floods[i].r.rate()/echos[i].r.rate() >= .25))
	}
}

// floorRound is a round's store floor and the baseline it ran after.
type floorRound struct {
	round int
	floor *measure
	base  *measure // nil when no baseline ran
}

// summarizeFloors says how far the store alone is from the baseline, and the service from
// the store: the share of the gap that no HTTP layer could close.
func summarizeFloors(out io.Writer, o options, floors []floorRound, pairs []pair) {
	name := map[string]string{"sqlite": "bare SQLite loop", "postgres": "pgbench"}[o.engine]
	for _, f := range floors {
		if f.base != nil {
			fmt.Fprintf(out, "round %d: store floor / %-16s = %4.2f× the throughput, %4.2f× the CPU per transaction\n",
				f.round, name, f.floor.r.rate()/f.base.r.rate(), f.floor.cpuPerReq()/f.base.cpuPerReq())
		}
		var ratios []string
		for _, p := range pairs {
			if p.round == f.round {
				ratios = append(ratios, fmt.Sprintf("%.2f×", p.us.r.rate()/f.floor.r.rate()))
			}
		}
		if len(ratios) > 0 {
			fmt.Fprintf(out, "round %d: bookings / store floor = %s the throughput\n", f.round, strings.Join(ratios, ", "))
		}
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
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
