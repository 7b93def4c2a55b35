package metrics_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store"
)

// fakeSource answers the queue query with counts, or blocks until the scrape gives up.
type fakeSource struct {
	counts map[string]int
	block  bool
}

func (f fakeSource) EmailJobCounts(ctx context.Context) (map[string]int, error) {
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.counts, nil
}

func (f fakeSource) PoolStats() []store.PoolStat {
	return []store.PoolStat{{Name: "main", Stats: sql.DBStats{MaxOpenConnections: 32, OpenConnections: 3, InUse: 1, Idle: 2,
		WaitCount: 7, WaitDuration: 1500 * time.Millisecond}}}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestScrape(t *testing.T) {
	m := metrics.New(fakeSource{counts: map[string]int{"pending": 4, "done": 9, "paused": 1}}, metrics.Options{})
	m.ObserveEmail("sent")
	m.ObserveEmail("sent")
	m.ObserveEmail("retry")
	m.ObserveBooking("accepted")
	m.ObserveBooking("refused:email_format_validation")
	m.ObserveBooking("refused:email_format_validation")
	m.ObserveRequest("GET /healthz", 200, 3*time.Millisecond)
	body := scrape(t, m)
	for _, line := range []string{
		`leads_email_deliveries_total{outcome="sent"} 2`,
		`leads_email_deliveries_total{outcome="retry"} 1`,
		`leads_email_deliveries_total{outcome="failed"} 0`,
		`leads_bookings_total{outcome="accepted"} 1`,
		`leads_bookings_total{outcome="deduplicated"} 0`,
		`leads_booking_refusals_total{rule="email_format_validation"} 2`,
		`leads_http_requests_total{route="GET /healthz",status="200"} 1`,
		`leads_http_request_duration_seconds_bucket{route="GET /healthz",status="200",le="0.0025"} 0`,
		`leads_http_request_duration_seconds_bucket{route="GET /healthz",status="200",le="0.005"} 1`,
		`leads_email_queue_up 1`,
		`leads_email_queue_jobs{status="pending"} 4`,
		`leads_email_queue_jobs{status="done"} 9`,
		`leads_email_queue_jobs{status="failed"} 0`,
		`leads_email_queue_jobs{status="paused"} 1`,
		`leads_db_in_use_connections{pool="main"} 1`,
		`leads_db_idle_connections{pool="main"} 2`,
		`leads_db_open_connections{pool="main"} 3`,
		`leads_db_max_open_connections{pool="main"} 32`,
		`leads_db_wait_count_total{pool="main"} 7`,
		`leads_db_wait_duration_seconds_total{pool="main"} 1.5`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, "\n"+line) {
			t.Errorf("missing %q", line)
		}
	}
}

// A database that does not answer costs a scrape at most the timeout, and the rest of the
// page is still served.
func TestQueueTimeout(t *testing.T) {
	m := metrics.New(fakeSource{block: true}, metrics.Options{QueueTimeout: 50 * time.Millisecond})
	m.ObserveBooking("accepted")
	done := make(chan string, 1)
	go func() { done <- scrape(t, m) }()
	select {
	case body := <-done:
		if !strings.Contains(body, "\nleads_email_queue_up 0") || strings.Contains(body, "leads_email_queue_jobs{") {
			t.Errorf("want queue_up 0 and no depth:\n%s", body)
		}
		if !strings.Contains(body, `leads_bookings_total{outcome="accepted"} 1`) {
			t.Errorf("the other metrics are missing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scrape hung on a blocked queue query")
	}
}

func TestNilMetricsRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveBooking("accepted")
	m.ObserveEmail("sent")
	m.ObserveRequest("GET /", 200, time.Millisecond)
}
