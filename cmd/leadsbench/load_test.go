package main

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
)

// The booking load must be all valid, all new leads, and never rate-limited.
func TestBookingRequests(t *testing.T) {
	mk := bookingRequest("http://127.0.0.1:1")
	_, bench, _ := net.ParseCIDR("198.18.0.0/15")
	emails, perIP := map[string]bool{}, map[string]int{}
	for range 2000 {
		req := mk()
		body, _ := io.ReadAll(req.Body)
		in, honeypot, err := intake.DecodeJSON(body)
		if err != nil || honeypot != "" {
			t.Fatalf("body %s: %v", body, err)
		}
		b, res := lead.ValidateBooking(in)
		if !res.OK() {
			t.Fatalf("invalid booking %s: %+v", body, res.Errors)
		}
		if emails[b.EmailNormalized] {
			t.Fatalf("email %s repeated", b.EmailNormalized)
		}
		emails[b.EmailNormalized] = true
		ip := req.Header.Get("X-Forwarded-For")
		if !bench.Contains(net.ParseIP(ip)) {
			t.Fatalf("client IP %s outside the benchmarking range", ip)
		}
		if perIP[ip]++; perIP[ip] > 4 {
			t.Fatalf("more than 4 bookings from %s: the rate limit (5/h) would refuse some", ip)
		}
	}
}

func TestResult(t *testing.T) {
	r := drive(t.Context(), 50*time.Millisecond, 3, func() error { time.Sleep(time.Millisecond); return nil })
	if r.ops == 0 || r.errs != 0 || r.rate() <= 0 || r.quantile(.5) < time.Millisecond || r.quantile(.99) < r.quantile(.5) {
		t.Fatalf("result %+v", r)
	}
}
