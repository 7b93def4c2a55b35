package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// The store floor: what the database work of a booking costs with nothing else around it.
// A child process opens and migrates the real store (the full schema, its indexes, search
// index and triggers) and CLIENTS goroutines call store.Book back to back with the
// benchmark's bookings (validated once, four per address, a fresh challenge each, the rate
// limit on), while one loop does the email worker's database work: claim (which mints the
// personal link) and mark done, four marks at once. No HTTP, JSON, validation, logging,
// rendering or sending. It is not a SPEC §8 baseline: it tells how much of the gap to the
// bare loop (or pgbench) the database work alone already takes, so that a target that no
// HTTP layer could reach is seen as such.

// floorChild is `leadsbench -store-floor URL WARMUP DURATION CLIENTS`. It prints "measure"
// when the measured part begins (the parent then starts counting PostgreSQL's backends)
// and a childReport as its last line.
func floorChild(ctx context.Context, args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: -store-floor URL WARMUP DURATION CLIENTS")
	}
	clients, err := strconv.Atoi(args[3])
	if err != nil {
		return err
	}
	s, warmup, d, err := openChild(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}

	consent := true
	b, res := lead.ValidateBooking(lead.BookingInput{FirstName: "Ada", LastName: "Lovelace", Email: "bench@example.org",
		OrganizationName: "Analytical Mentors", OrganizationType: "non-profit", Message: "We run 40 mentors.", ConsentGiven: &consent})
	if !res.OK() {
		return fmt.Errorf("the benchmark's booking is invalid: %+v", res.Errors)
	}
	var n atomic.Int64
	book := func() error {
		i := n.Add(1)
		p := store.BookingParams{Booking: b, UserAgent: "leadsbench", ConsentVersion: "2026-11", RateLimit: 5, RateWindow: time.Hour,
			Warnings: []lead.Issue{}, Language: "nb", Challenge: "floor-" + strconv.FormatInt(i, 10), ChallengeExpires: time.Now().Add(time.Hour)}
		p.Booking.Email = "bench" + strconv.FormatInt(i, 10) + "@example.org"
		p.Booking.EmailNormalized = p.Booking.Email
		a := i / 4 % (1 << 17)
		p.IP = fmt.Sprintf("198.%d.%d.%d", 18+a>>16, a>>8&255, a&255)
		_, err := s.Book(ctx, p)
		return err
	}

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var worker sync.WaitGroup
	worker.Go(func() { emailFloor(workCtx, s) })

	drive(ctx, warmup, clients, book)
	if f := os.Getenv("LEADSBENCH_FLOOR_PROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println("measure")
	cpu0 := selfCPU()
	r := drive(ctx, d, clients, book)
	cpu := selfCPU() - cpu0
	stopWork()
	worker.Wait()
	rep := childReport{Ops: r.ops, Errs: r.errs, Elapsed: r.elapsed, P50: r.p50, P99: r.p99, CPU: cpu,
		HWM: procStatus(os.Getpid(), "VmHWM")}
	if r.firstErr != nil {
		rep.Err = r.firstErr.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// emailFloor is the email worker's database work: after a wake-up it lets jobs gather for
// 5 ms as the worker does, claims up to 16 and marks each done, four at once.
func emailFloor(ctx context.Context, s *store.Store) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.JobsReady():
		case <-time.After(time.Second):
		}
		time.Sleep(5 * time.Millisecond)
		for ctx.Err() == nil {
			jobs, err := s.ClaimEmailJobs(ctx, 16, 2*time.Minute)
			if err != nil || len(jobs) == 0 {
				break
			}
			sem := make(chan struct{}, 4)
			var wg sync.WaitGroup
			for _, j := range jobs {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					s.CompleteEmailJob(context.WithoutCancel(ctx), j.ID)
				})
			}
			wg.Wait()
			if len(jobs) < 16 {
				break
			}
		}
	}
}

// storeFloor runs floorChild in a child process on a fresh database, counting on
// PostgreSQL the CPU of that database's backends during the measured part.
func storeFloor(ctx context.Context, o options, dir, name string) (*measure, error) {
	self, dbURL, drop, err := childDatabase(ctx, o, dir, name)
	if err != nil {
		return nil, err
	}
	defer drop()
	cmd := exec.CommandContext(ctx, self, "-store-floor", dbURL, o.warmup.String(), o.duration.String(), strconv.Itoa(o.clients))
	cmd.Stderr = os.Stderr
	if o.profile != "" {
		// the measured part of the floor, beside the service's profiles
		cmd.Env = append(os.Environ(), "LEADSBENCH_FLOOR_PROFILE="+o.profile+"."+name)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var pg func() time.Duration
	var last string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		last = sc.Text()
		if last == "measure" && o.engine == "postgres" {
			pg = backendCPU(postgresDB(dbURL))
		}
	}
	var dbCPU time.Duration
	if pg != nil {
		dbCPU = pg()
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("store floor: %w", err)
	}
	var rep childReport
	if err := json.Unmarshal([]byte(last), &rep); err != nil {
		return nil, fmt.Errorf("store floor printed %q: %w", last, err)
	}
	m := rep.measure()
	m.dbCPU = dbCPU
	return m, nil
}
