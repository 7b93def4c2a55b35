package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects a program's log output; safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// program is the real leads binary's run() serving on a random port.
type program struct {
	URL    string
	Logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startProgram runs `leads serve` with the flags args and env (as if from the environment),
// on 127.0.0.1:0, and waits until it listens. It stops at cleanup.
func startProgram(t testing.TB, env map[string]string, args ...string) *program {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "LEADS_SPAM_POLICY" {
			return v
		}
		return "off" // these tests are not about spam; spam_test.go passes --spam-policy
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{Logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	go func() {
		err := run(ctx, append([]string{"leads", "serve", "--addr", "127.0.0.1:0"}, args...), getenv, io.Discard, io.MultiWriter(p.Logs, pw))
		pw.Close()
		p.done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case err := <-p.done:
		t.Fatalf("leads serve exited: %v\n%s", err, p.Logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("leads serve did not start:\n%s", p.Logs)
	}
	t.Cleanup(func() { p.Stop(t) })
	return p
}

// Stop sends the equivalent of SIGTERM and waits for a clean exit.
func (p *program) Stop(t testing.TB) {
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("leads serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("leads serve did not stop")
	}
}

// post sends a JSON body and returns status and body.
func (p *program) post(t testing.TB, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
