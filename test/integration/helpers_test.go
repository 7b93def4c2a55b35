// Package integration runs the real leads binary as separate processes — several on one
// database, killed with SIGKILL, cut off from SMTP or PostgreSQL — and checks the database
// and the mailbox afterwards (SPEC §1, §3.5, §3.6, §9).
package integration

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "leads-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// leadsBinary builds cmd/leads once per test run.
func leadsBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		build.path = filepath.Join(build.dir, "leads")
		out, err := exec.Command(gobin, "build", "-o", build.path, "github.com/norsedigital/leads/cmd/leads").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// proc is one running `leads serve`.
type proc struct {
	URL      string
	AdminURL string
	PID      int
	cmd      *exec.Cmd
	logs     *logBuffer
	done     chan struct{}
}

// logBuffer keeps the process's log and finds the listening addresses in it.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	addr    chan string
	admin   chan string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(b.partial[:i], &line) == nil {
			switch line.Msg {
			case "listening":
				b.addr <- line.Addr
			case "admin listening":
				b.admin <- line.Addr
			}
		}
		b.partial = b.partial[i+1:]
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the log lines whose msg is msg, decoded.
func (p *proc) Lines(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// startLeads starts `leads serve --addr 127.0.0.1:0 args…` and waits until it listens.
// It is killed at cleanup if still running. Safe to call from any goroutine.
func startLeads(t testing.TB, args ...string) (*proc, error) {
	cmd := exec.Command(leadsBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() { // the settings are the test's, not the machine's
		if !strings.HasPrefix(kv, "LEADS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// several processes per test, and other test packages at once, share one PostgreSQL
	cmd.Env = append(cmd.Env, "LEADS_DB_MAX_CONNS="+strconv.Itoa(storetest.MaxConns))
	// these tests book through the API and are not about spam (a --spam-policy flag wins)
	cmd.Env = append(cmd.Env, "LEADS_SPAM_POLICY=off")
	logs := &logBuffer{addr: make(chan string, 1), admin: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, logs: logs, PID: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			var problems []string
			for _, line := range strings.Split(p.logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
					problems = append(problems, line)
				}
			}
			t.Logf("log of leads serve (pid %d), warnings and errors:\n%s\nlast lines:\n%s", p.PID,
				tail(strings.Join(problems, "\n"), 30), tail(p.logs.String(), 15))
		}
	})
	select {
	case a := <-logs.addr:
		p.URL = "http://" + a
	case <-p.done:
		return nil, fmt.Errorf("leads serve exited: %s\n%s", cmd.ProcessState, logs)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("leads serve did not start:\n%s", logs)
	}
	select {
	case a := <-logs.admin:
		p.AdminURL = "http://" + a
	default:
	}
	return p, nil
}

func mustStart(t testing.TB, args ...string) *proc {
	t.Helper()
	p, err := startLeads(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *proc) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *proc) Stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.Wait(t)
}

// Wait waits for the process to exit after a SIGTERM sent by the test, and fails the test
// unless it exits cleanly within 30s.
func (p *proc) Wait(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("leads serve exited with %s", p.cmd.ProcessState)
		}
	case <-time.After(30 * time.Second):
		p.Kill()
		t.Errorf("leads serve did not stop on SIGTERM")
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// clientFrom returns a client whose connections come from the loopback address ip, which
// the service sees as the client IP.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: d.DialContext,
		MaxIdleConnsPerHost: 256}}
}

// booking is a valid booking body.
func booking(email string) map[string]any {
	return map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email,
		"organization_name": "Analytical Mentors", "organization_type": "non-profit",
		"message": "We run 40 mentors.", "consent_given": true}
}

type answer struct {
	Status    int
	BookingID string
	Header    http.Header
	Body      []byte
	Err       error
}

// post sends a JSON booking; hdr is name, value pairs.
func post(c *http.Client, url string, body any, hdr ...string) answer {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url+"/api/v1/bookings", bytes.NewReader(b))
	if err != nil {
		return answer{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{Err: err}
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode, Header: resp.Header}
	a.Body, a.Err = io.ReadAll(resp.Body)
	if a.Status == http.StatusCreated {
		var r struct {
			BookingID string `json:"booking_id"`
		}
		json.Unmarshal(a.Body, &r)
		a.BookingID = r.BookingID
	}
	return a
}

// fire runs n calls of fn at once (released together) and returns their answers in order.
func fire(n int, fn func(i int) answer) []answer {
	out := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// others describes, once each, the answers whose status is not one of want (0 for a
// transport error): what a failed count was made of.
func others(as []answer, want ...int) string {
	seen := map[string]bool{}
	var out []string
	for _, a := range as {
		st := a.Status
		if a.Err != nil {
			st = 0
		}
		if slices.Contains(want, st) {
			continue
		}
		d := fmt.Sprintf("%d %s", a.Status, bytes.TrimSpace(a.Body))
		if a.Err != nil {
			d = "error: " + a.Err.Error()
		}
		// the request id differs in every answer; the rest is what matters
		if i := strings.Index(d, `,"request_id"`); i > 0 {
			d = d[:i]
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return strings.Join(out, "\n")
}

// statusCounts counts answers by status; transport errors count under 0.
func statusCounts(as []answer) map[int]int {
	m := map[int]int{}
	for _, a := range as {
		if a.Err != nil {
			m[0]++
			continue
		}
		m[a.Status]++
	}
	return m
}

// benchIP is the n-th address of 198.18.0.0/15 (RFC 2544, for benchmarks): a client IP
// sent in X-Forwarded-For only, never dialled.
func benchIP(n int) string { return fmt.Sprintf("198.%d.%d.%d", 18+n>>16&1, n>>8&255, n&255) }

// openDB opens the database the processes share, for checking with SQL.
func openDB(t testing.TB, url string) *sql.DB {
	t.Helper()
	s, err := store.Open(context.Background(), url, store.Options{MaxConns: storetest.MaxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.DB()
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitUntil polls cond every 50ms until it holds or timeout passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkIntegrity asserts that nothing is half-written (SPEC §9).
func checkIntegrity(t testing.TB, db *sql.DB) {
	t.Helper()
	for _, c := range []struct{ what, q string }{
		{"bookings without their lead", `SELECT COUNT(*) FROM bookings b LEFT JOIN leads l ON l.id = b.lead_id WHERE l.id IS NULL`},
		{"leads without their created event", `SELECT COUNT(*) FROM leads l WHERE NOT EXISTS
			(SELECT 1 FROM lead_events e WHERE e.lead_id = l.id AND e.type = 'created')`},
		{"leads without a booking", `SELECT COUNT(*) FROM leads l WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.lead_id = l.id)`},
		// the confirmations; the emails to the team (SPEC §11) need no booking
		{"email jobs without their booking", `SELECT COUNT(*) FROM email_jobs j LEFT JOIN bookings b ON b.id = j.booking_id WHERE b.id IS NULL AND j.kind = 'confirmation'`},
		{"leads without exactly one email job", `SELECT COUNT(*) FROM leads l WHERE (SELECT COUNT(*) FROM email_jobs j WHERE j.lead_id = l.id AND j.kind = 'confirmation') <> 1`},
		{"booking events without their booking", `SELECT COUNT(*) FROM lead_events e WHERE e.type IN ('created', 'booking_linked') AND NOT EXISTS
			(SELECT 1 FROM bookings b WHERE b.lead_id = e.lead_id)`},
	} {
		if n := queryInt(t, db, c.q); n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
}

// metricsOf scrapes url's /metrics and returns the value of each series.
func metricsOf(t testing.TB, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s/metrics: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		fmt.Sscan(line[i+1:], &v)
		out[line[:i]] = v
	}
	return out
}
