package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/norsedigital/leads/internal/spam"
)

// result is the client's side of one measured phase.
type result struct {
	ops, errs int
	firstErr  error
	elapsed   time.Duration
	p50, p99  time.Duration
}

func (r *result) rate() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// quantile of sorted latencies.
func quantile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(float64(len(lat))*q))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/(1<<20)) }

// drive runs op from clients goroutines back to back for d and measures each call. It
// stops early when ctx is cancelled.
func drive(ctx context.Context, d time.Duration, clients int, op func() error) *result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	lats := make([][]time.Duration, clients)
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := op(); err != nil {
					if ctx.Err() != nil {
						return // cut by the end of the phase: neither a result nor an error
					}
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lats...)
	slices.Sort(all)
	r := &result{elapsed: time.Since(start), errs: int(errs.Load()), ops: len(all),
		p50: quantile(all, .50), p99: quantile(all, .99)}
	if e, ok := firstErr.Load().(error); ok {
		r.firstErr = e
	}
	return r
}

// load drives HTTP requests made by mk; check, when set, judges each response.
func load(ctx context.Context, d time.Duration, clients int, mk func() *http.Request, c *http.Client,
	check func(*http.Response) error) *result {
	if d <= 0 {
		return &result{}
	}
	return drive(ctx, d, clients, func() error {
		req := mk().WithContext(ctx)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if check != nil {
			return check(resp)
		}
		return nil
	})
}

func newClient(clients int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, DisableCompression: true}}
}

// bookingRequest makes valid bookings, each with a new email, from client IPs of
// 198.18.0.0/15 (benchmarking range, sent in X-Forwarded-For only), four per address so
// that the rate limit (5 per hour) never refuses one. The same bodies go to PocketBase's
// record create (endpoint), which ignores the header.
//
// altcha, when set, gives each booking its solved proof-of-work challenge (SPEC §15), so
// that the service books it instead of holding it for review.
func bookingRequest(endpoint string, altcha func() string) func() *http.Request {
	var n atomic.Int64
	return func() *http.Request {
		i := n.Add(1)
		var b []byte
		b = append(b, `{"first_name":"Ada","last_name":"Lovelace","email":"bench`...)
		b = strconv.AppendInt(b, i, 10)
		b = append(b, `@example.org","organization_name":"Analytical Mentors","organization_type":"non-profit",`+
			`"message":"We run 40 mentors.","consent_given":true`...)
		if altcha != nil {
			b = append(b, `,"altcha":"`...)
			b = append(b, altcha()...)
			b = append(b, '"')
		}
		b = append(b, '}')
		req, _ := http.NewRequest("POST", endpoint, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		a := i / 4 % (1 << 17)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.%d.%d.%d", 18+a>>16, a>>8&255, a&255))
		return req
	}
}

// floodRequest makes valid bookings all from one client IP (the TCP peer, 127.0.0.1):
// after the first five, every one is answered 429.
func floodRequest(url string) func() *http.Request {
	body := []byte(`{"first_name":"Ada","last_name":"Lovelace","email":"flood@example.org",` +
		`"organization_name":"Analytical Mentors","consent_given":true}`)
	return func() *http.Request {
		req, _ := http.NewRequest("POST", url+"/api/v1/bookings", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
}

// echoRequest is the same small JSON post to the echo baseline.
func echoRequest(url string) func() *http.Request {
	body := []byte(`{"first_name":"Ada","last_name":"Lovelace","email":"flood@example.org",` +
		`"organization_name":"Analytical Mentors","consent_given":true}`)
	return func() *http.Request {
		req, _ := http.NewRequest("POST", url+"/echo", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
}

// BenchPowMaxNumber is the --pow-maxnumber the benchmark gives leads serve: a challenge
// then costs a client about 500 SHA-256 (a fraction of a millisecond), so the figures
// measure the service's booking, with its challenge and spam check, and not the client's
// proof of work (the default of 50000 is the browser's few hundred milliseconds).
const BenchPowMaxNumber = 1000

// solver fetches challenges from a leads service and solves them ahead of the load, on
// workers goroutines, until ctx ends. Its next blocks until a solution is ready.
func solver(ctx context.Context, baseURL string, workers int) func() string {
	out := make(chan string, 4096)
	c := newClient(workers)
	for range workers {
		go func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", baseURL+"/api/v1/challenge", nil)
				resp, err := c.Do(req)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				var ch spam.Challenge
				err = json.NewDecoder(resp.Body).Decode(&ch)
				resp.Body.Close()
				if err != nil {
					continue
				}
				if p, ok := spam.Solve(ch); ok {
					select {
					case out <- p.Encode():
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
	return func() string {
		select {
		case s := <-out:
			return s
		case <-ctx.Done():
			return ""
		}
	}
}
