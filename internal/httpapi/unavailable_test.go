package httpapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// A booking the database server cannot take one more connection for (53300, max_connections
// used up by other instances) is 503 problem+json with Retry-After, naming the cause, and
// is booked once a connection is free. PostgreSQL only: SQLite has no connection limit.
func TestBookingWhenTheServerHasNoConnectionLeft(t *testing.T) {
	url := storetest.PostgresURL(t)
	storetest.MustOpen(t, url, store.Options{}) // migrated by a superuser
	limited := storetest.LimitedPostgresURL(t, url, 1)
	h := newHarness(t, storetest.Engine{Name: "postgres", URL: func(testing.TB) string { return limited }})
	held, err := h.Store.DB().Conn(t.Context()) // the role's one connection
	if err != nil {
		t.Fatal(err)
	}
	resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("noconn@example.org"))
	p := mustProblem(t, resp, data, 503)
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q, want seconds", resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(p.Detail, "too many connections") {
		t.Errorf("detail %q does not name the cause", p.Detail)
	}
	held.Close()
	if resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("noconn@example.org")); resp.StatusCode != 201 {
		t.Fatalf("once a connection is free: %d %s", resp.StatusCode, data)
	}
}
