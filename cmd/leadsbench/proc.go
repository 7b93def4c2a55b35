package main

import (
	"bufio"
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
// {"msg":"listening","addr":…} (leads) or "listening ADDR" (the echo server), on stdout
// or stderr. Everything else the child writes is discarded.
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

// status reads a size field of /proc/PID/status (VmRSS, VmHWM) in bytes; 0 if unknown.
func (c *child) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
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

func (c *child) rss() int64 { return c.status("VmRSS") }

// sampleRSS reads VmRSS every 50 ms until the returned function is called, which returns
// the highest reading.
func (c *child) sampleRSS() func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v := c.rss(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// buildLeads compiles cmd/leads (run from the repository) into dir.
func buildLeads(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "leads")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/norsedigital/leads/cmd/leads")
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
