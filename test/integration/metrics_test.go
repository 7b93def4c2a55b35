package integration

import (
	"net/http"
	"testing"

	"github.com/norsedigital/leads/internal/store/storetest"
)

// With --admin-addr, /metrics is served there and only there (SPEC §6).
func TestMetricsOnAdminAddr(t *testing.T) {
	p := mustStart(t, "--database", storetest.SQLiteURL(t), "--admin-addr", "127.0.0.1:0")
	if p.AdminURL == "" {
		t.Fatal("no admin listener logged")
	}
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("/metrics is served on the main address although --admin-addr is set")
	}
	if a := post(clientFrom("127.0.0.1"), p.URL, booking("admin@example.org")); a.Status != 201 {
		t.Fatalf("booking: %d %v %s", a.Status, a.Err, a.Body)
	}
	m := metricsOf(t, p.AdminURL)
	if m[`leads_bookings_total{outcome="accepted"}`] != 1 ||
		m[`leads_http_requests_total{route="POST /api/v1/bookings",status="201"}`] != 1 {
		t.Fatalf("admin metrics do not count the booking: accepted=%v requests=%v",
			m[`leads_bookings_total{outcome="accepted"}`], m[`leads_http_requests_total{route="POST /api/v1/bookings",status="201"}`])
	}
	if m[`leads_email_queue_up`] != 1 || m[`process_resident_memory_bytes`] == 0 {
		t.Fatalf("queue or process metrics missing")
	}
	p.Stop(t)
}
