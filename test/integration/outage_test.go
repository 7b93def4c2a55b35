package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// SMTP down: bookings keep answering 201 (the response never waits for SMTP), the emails
// are retried and arrive, once each, after the server is back (SPEC §3.6, §9).
func TestSMTPOutage(t *testing.T) {
	leadsBinary(t)
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		db := e.URL(t)
		smtp := mailtest.Start(t)
		smtp.Stop()
		p := mustStart(t, "--database", db, "--smtp", smtp.URL(), "--mail-retry", "100ms", "--trusted-proxies", "127.0.0.1/32",
			"--admin-addr", "127.0.0.1:0")
		sqlDB := openDB(t, db)

		const n = 10
		client := clientFrom("127.0.0.1")
		for i := range n {
			if a := post(client, p.URL, booking(fmt.Sprintf("outage%d@example.org", i)), "X-Forwarded-For", benchIP(i)); a.Err != nil || a.Status != 201 {
				t.Fatalf("booking %d with SMTP down: %d %v %s", i, a.Status, a.Err, a.Body)
			}
		}
		// every job has failed at least twice and is waiting for its next try
		waitUntil(t, 20*time.Second, "two failed attempts per email", func() bool {
			return queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs WHERE attempts >= 2 AND last_error IS NOT NULL`) == n
		})
		if got := len(smtp.Messages()); got != 0 {
			t.Fatalf("%d messages while SMTP was down", got)
		}
		waitUntil(t, 10*time.Second, "the failed attempts counted in /metrics", func() bool {
			return metricsOf(t, p.AdminURL)[`leads_email_deliveries_total{outcome="retry"}`] >= n
		})

		smtp.Restart(t)
		waitUntil(t, 30*time.Second, "every email job done after SMTP is back", func() bool {
			return queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs WHERE status <> 'done'`) == 0
		})
		got := map[string]int{}
		for _, m := range smtp.Messages() {
			for _, to := range m.To {
				got[to]++
			}
		}
		for i := range n {
			if to := fmt.Sprintf("outage%d@example.org", i); got[to] != 1 {
				t.Errorf("%s got %d emails, want 1", to, got[to])
			}
		}
		if len(got) != n {
			t.Errorf("emails to %d recipients, want %d", len(got), n)
		}
		p.Stop(t)
	})
}

// PostgreSQL restarted under load: requests during the outage get 503 problems within a
// bounded time (never 500, never a hang), /readyz turns red then green, and the service
// recovers without a restart; no booking answered 201 is lost and each gets one email.
//
// It runs on a private PostgreSQL (initdb in a temp dir), never the shared server, which
// other tests use at the same time.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := startPrivatePostgres(t)
	smtp := mailtest.Start(t)
	db := pg.URL()
	// a short lease: a job whose "done" could not be written during the outage is due again soon
	p := mustStart(t, "--database", db, "--smtp", smtp.URL(), "--mail-retry", "100ms", "--mail-lease", "3s",
		"--trusted-proxies", "127.0.0.1/32")
	sqlDB := openDB(t, db)

	type result struct {
		a   answer
		at  time.Time
		dur time.Duration
	}
	var (
		mu      sync.Mutex
		results []result
		stop    atomic.Bool
		seq     atomic.Int64
		wg      sync.WaitGroup
	)
	count := func(status int, since time.Time) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range results {
			if r.a.Err == nil && r.a.Status == status && !r.at.Before(since) {
				n++
			}
		}
		return n
	}
	// the load: 4 clients booking back to back, bounded in count and time
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	deadline := time.Now().Add(50 * time.Second)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() && time.Now().Before(deadline) && seq.Load() < 20000 {
				i := int(seq.Add(1))
				t0 := time.Now()
				a := post(client, p.URL, booking(fmt.Sprintf("pg%d@example.org", i)), "X-Forwarded-For", benchIP(i))
				mu.Lock()
				results = append(results, result{a, t0, time.Since(t0)})
				mu.Unlock()
				if a.Status == 503 {
					time.Sleep(20 * time.Millisecond) // a polite client backs off a little
				}
			}
		})
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })

	start := time.Now()
	waitUntil(t, 15*time.Second, "bookings before the restart", func() bool { return count(201, start) >= 20 })
	readyz := func() int {
		resp, err := http.Get(p.URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := readyz(); s != 200 {
		t.Fatalf("/readyz %d before the restart", s)
	}

	pg.ctl(t, "stop", "-m", "fast")
	down := time.Now()
	waitUntil(t, 10*time.Second, "/readyz red", func() bool { return readyz() == 503 })
	waitUntil(t, 10*time.Second, "503 answers to bookings while PostgreSQL is down", func() bool { return count(503, down) >= 5 })
	pg.ctl(t, "start")
	up := time.Now()
	waitUntil(t, 20*time.Second, "/readyz green", func() bool { return readyz() == 200 })
	waitUntil(t, 20*time.Second, "bookings after the restart", func() bool { return count(201, up) >= 20 })
	stop.Store(true)
	wg.Wait()

	byStatus := map[int]int{}
	var accepted []string
	for _, r := range results {
		switch {
		case r.a.Err != nil:
			t.Errorf("request failed after %v: %v", r.dur.Round(time.Millisecond), r.a.Err)
		case r.a.Status == 201:
			accepted = append(accepted, r.a.BookingID)
		case r.a.Status == 503:
			var prob struct {
				Status int    `json:"status"`
				Type   string `json:"type"`
			}
			if ct := r.a.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(r.a.Body, &prob) != nil || prob.Status != 503 {
				t.Errorf("503 that is not a problem: %s %s", ct, r.a.Body)
			}
		default:
			t.Errorf("status %d during the restart: %s", r.a.Status, r.a.Body)
		}
		if r.a.Err == nil {
			byStatus[r.a.Status]++
		}
	}
	t.Logf("answers: %v; outage %v", byStatus, up.Sub(down).Round(time.Millisecond))

	for _, id := range accepted {
		if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM bookings b JOIN leads l ON l.id = b.lead_id WHERE b.id = $1`, id); n != 1 {
			t.Errorf("booking %s answered 201 is not stored", id)
		}
	}
	checkIntegrity(t, sqlDB)

	// every job delivered; the only allowed duplicate is a message whose job could not be
	// marked done because the database went away right after SMTP accepted it (logged)
	waitUntil(t, 40*time.Second, "every email job done", func() bool {
		return queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs WHERE status <> 'done'`) == 0
	})
	unmarked := map[string]bool{}
	for _, l := range p.Lines("email queue: could not mark job done") {
		id, _ := l["job_id"].(string)
		var email string
		if err := sqlDB.QueryRow(`SELECT l.email FROM email_jobs j JOIN leads l ON l.id = j.lead_id WHERE j.id = $1`, id).Scan(&email); err == nil {
			unmarked[strings.ToLower(email)] = true
		}
	}
	got := map[string]int{}
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			got[strings.ToLower(to)]++
		}
	}
	if len(unmarked) > 0 {
		t.Logf("%d jobs could not be marked done during the outage (sent again after their lease)", len(unmarked))
	}
	rows, err := sqlDB.Query(`SELECT email FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	leads := 0
	for rows.Next() {
		var email string
		rows.Scan(&email)
		email = strings.ToLower(email)
		leads++
		if n := got[email]; n != 1 && !(n == 2 && unmarked[email]) {
			t.Errorf("%s got %d emails", email, n)
		}
	}
	if leads < len(accepted) {
		t.Errorf("%d leads for %d accepted bookings", leads, len(accepted))
	}
	p.Stop(t)
}

// privatePostgres is a PostgreSQL server of the test's own, in a temp dir.
type privatePostgres struct {
	bin, dir, data string
	port           int
}

func (pg *privatePostgres) URL() string {
	// connect_timeout bounds a connection attempt to an unreachable server
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=3", pg.port)
}

// ctl runs pg_ctl as the postgres OS user (root may not run the server).
func (pg *privatePostgres) ctl(t testing.TB, args ...string) {
	t.Helper()
	full := append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-w", "-t", "30",
		"-l", filepath.Join(pg.dir, "server.log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir)}, args...)
	cmd := exec.Command("runuser", full...)
	cmd.Dir = pg.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		t.Fatalf("pg_ctl %v: %v\n%s\n%s", args, err, out, tail(string(log), 20))
	}
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		skip("initdb not found under /usr/lib/postgresql/*/bin: install the postgresql package to run this test")
	}
	if _, err := exec.LookPath("runuser"); err != nil || os.Geteuid() != 0 {
		skip("this test runs initdb as the postgres user via runuser, which needs root")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		skip("no postgres OS user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	// not t.TempDir: its parent is private to root, and the postgres user must reach it
	dir, err := os.MkdirTemp("", "leads-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	pg := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1]), dir: dir, data: filepath.Join(dir, "data"), port: port}
	initdb := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pg.bin, "initdb"), "-D", pg.data,
		"-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.ctl(t, "start")
	t.Cleanup(func() {
		cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-m", "immediate", "stop")
		cmd.Dir = dir
		cmd.Run()
	})
	return pg
}
