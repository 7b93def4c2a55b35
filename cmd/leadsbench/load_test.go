package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// The booking load must be all valid, all new leads, and never rate-limited.
func TestBookingRequests(t *testing.T) {
	mk := bookingRequest("http://127.0.0.1:1/api/v1/bookings", func() string { return "c29sdmVk" })
	_, bench, _ := net.ParseCIDR("198.18.0.0/15")
	emails, perIP := map[string]bool{}, map[string]int{}
	for range 2000 {
		req := mk()
		body, _ := io.ReadAll(req.Body)
		in, honeypot, altcha, err := intake.DecodeJSONSpam(body)
		if err != nil || honeypot != "" || altcha != "c29sdmVk" {
			t.Fatalf("body %s: %v (altcha %q)", body, err, altcha)
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
	if r.ops == 0 || r.errs != 0 || r.rate() <= 0 || r.p50 < time.Millisecond || r.p99 < r.p50 {
		t.Fatalf("result %+v", r)
	}
}

// The bare loop's schema and statements store a lead and its booking on a real SQLite file
// opened with the store's pragmas, and the schema has exactly the seed's six indexes.
func TestBareSchemaSQLite(t *testing.T) {
	ctx := t.Context()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "bare.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	if _, err := db.ExecContext(ctx, bareSchema("sqlite")); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := db.ExecContext(ctx, bareLeadInsert, "l1", "a@example.org", now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, bareBookingInsert, "b1", "l1", "a@example.org", now); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM bookings JOIN leads ON leads.id = bookings.lead_id`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("joined rows %d, %v", n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("%d explicit indexes, want the seed's six (%v)", n, err)
	}
}

func TestProcReadings(t *testing.T) {
	for selfCPU() < 20*time.Millisecond {
		// burn a little CPU so that /proc's 10 ms ticks show some
	}
	if c := procCPU(os.Getpid()); c <= 0 {
		t.Fatalf("procCPU of this process = %v", c)
	}
	if hwm := procStatus(os.Getpid(), "VmHWM"); hwm < 1<<20 {
		t.Fatalf("VmHWM of this process = %d bytes", hwm)
	}
	if procCPU(-1) != 0 || procStatus(-1, "VmHWM") != 0 {
		t.Fatal("readings of no process must be 0")
	}
}

func TestPocketBaseCollection(t *testing.T) {
	c := pocketBaseCollection()
	if _, err := json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if c["createRule"] != "" || len(c["indexes"].([]string)) != 6 {
		t.Fatalf("collection %v: want createRule \"\" and the seed's six indexes", c)
	}
	// every field of the booking bodies exists in the collection, else PocketBase drops it
	names := map[string]bool{}
	for _, f := range c["fields"].([]map[string]any) {
		names[f["name"].(string)] = true
	}
	body, _ := io.ReadAll(bookingRequest("http://127.0.0.1:1/x", nil)().Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for k := range m {
		if !names[k] {
			t.Errorf("body field %s is not in the collection", k)
		}
	}
}

// The bookings phase measures real bookings: with the solver's challenges the service
// (spam policy hold, the default) books every one, and holds none for review.
func TestSolvedBookingsAreBooked(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clientIP, err := httpapi.NewClientIP([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	svc := &intake.Service{Store: st, RateLimit: intake.RateLimit{Count: 5, Window: time.Hour}, ConsentVersion: "bench",
		PowMaxNumber: BenchPowMaxNumber}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{Store: st, Intake: svc, ClientIP: clientIP}))
	defer srv.Close()
	mk := bookingRequest(srv.URL+"/api/v1/bookings", solver(ctx, srv.URL, 2))
	for range 12 {
		resp, err := srv.Client().Do(mk())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	var leads, held int
	st.DB().QueryRow(`SELECT COUNT(*) FROM leads`).Scan(&leads)
	st.DB().QueryRow(`SELECT COUNT(*) FROM held_bookings`).Scan(&held)
	if leads != 12 || held != 0 {
		t.Fatalf("%d leads, %d held; want 12 booked", leads, held)
	}
}
