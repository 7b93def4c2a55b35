package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// child is a server process under test.
type child struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	once sync.Once
}

// startChild runs bin with args and waits for its listening address: a JSON log line
// {"msg":"listening","addr":…} (leads), "listening ADDR" (the echo server) or "Server
// started at http://ADDR" (PocketBase), on stdout or stderr. Everything else the child writes is discarded.
func startChild(ctx context.Context, bin string, env []string, args ...string) (*child, error) {
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() { // the benchmark's settings, not the machine's
		if !strings.HasPrefix(kv, "LEADS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		pw.Close()
		close(c.done)
	}()
	addr := make(chan string, 1)
	var last atomic.Value
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			last.Store(line)
			var j struct{ Msg, Addr string }
			switch {
			case json.Unmarshal([]byte(line), &j) == nil && j.Msg == "listening":
				addr <- j.Addr
			case strings.HasPrefix(line, "listening "):
				addr <- strings.TrimPrefix(line, "listening ")
			case strings.Contains(line, "Server started at http://"): // PocketBase
				_, a, _ := strings.Cut(line, "Server started at http://")
				addr <- strings.TrimSpace(a)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		c.url = "http://" + a
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited at start: %v", filepath.Base(bin), last.Load())
	case <-time.After(60 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not start", filepath.Base(bin))
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// stop sends SIGTERM, and SIGKILL after 30 s.
func (c *child) stop() {
	c.once.Do(func() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
	})
}

// status reads a size field of the child's /proc/PID/status (VmRSS, VmHWM) in bytes.
func (c *child) status(field string) int64 { return procStatus(c.cmd.Process.Pid, field) }

func (c *child) rss() int64 { return c.status("VmRSS") }

// cpu is the child's CPU time so far (utime + stime).
func (c *child) cpu() time.Duration { return procCPU(c.cmd.Process.Pid) }

// procStatus reads a size field of /proc/PID/status in bytes; 0 if unknown.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			var kb int64
			fmt.Sscan(v, &kb)
			return kb << 10
		}
	}
	return 0
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// procCPU is utime + stime of a process from /proc/PID/stat; 0 if it is gone.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')') // the command name may contain spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state): utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * clockTick
}

// backendCPU follows the CPU time of the PostgreSQL backends connected to one database
// (processes titled "postgres: [CLUSTER: ]USER DATABASE …", which must run on this machine) from
// its call until the returned function is called, sampling every 100 ms so that
// backends which exit during the phase (pgbench's, at its end) count up to their last
// sample. PostgreSQL's shared background processes (WAL writer, checkpointer) are not
// counted, for either side.
func backendCPU(database string) func() time.Duration {
	ours := map[int]bool{} // the verdict on each process seen: its title's database does not change
	scan := func() map[int]time.Duration {
		m := map[int]time.Duration{}
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			is, seen := ours[pid]
			if !seen {
				cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
				if err != nil {
					continue
				}
				// "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE"
				f := strings.Fields(string(cmd))
				titled := bytes.HasPrefix(cmd, []byte("postgres: "))
				is = titled && slices.Contains(f[1:min(len(f), 4)], database)
				if titled || !bytes.Contains(cmd, []byte("postgres")) {
					ours[pid] = is // else: the postmaster, or a new backend that has no title yet
				}
			}
			if is {
				m[pid] = procCPU(pid)
			}
		}
		return m
	}
	base := scan()
	last := map[int]time.Duration{}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			for pid, v := range scan() {
				last[pid] = max(last[pid], v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() time.Duration {
		close(stop)
		<-done
		var sum time.Duration
		for pid, v := range last {
			sum += v - base[pid]
		}
		return sum
	}
}

// buildLeads compiles cmd/leads (run from the repository) into dir.
func buildLeads(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "leads")
	// built as it is shipped: a static binary without cgo (the SQLite driver is pure Go; cgo
	// would only bring libc's DNS resolver, and 1.2 MB of libc mapped into an idle process)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/norsedigital/leads/cmd/leads")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/leads (run leadsbench from the repository): %v\n%s", err, msg)
	}
	return out, nil
}

// echoServer is the baseline: net/http answering each JSON post with its body.
func echoServer(stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "listening", ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
