package httpapi_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// withMetrics gives the harness its own registry, wired like serve does.
func withMetrics(m **metrics.Metrics) harnessOpt {
	return func(d *httpapi.Deps) {
		*m = metrics.New(d.Store, metrics.Options{})
		d.Metrics = *m
		d.Intake.Observe = (*m).ObserveBooking
	}
}

// scrape reads /metrics and returns each sample line's value by its series text
// (`name{label="v",…}`, labels in the exposition's order).
func scrape(t testing.TB, h *harness) map[string]float64 {
	t.Helper()
	resp, body := h.do("GET", "/metrics", h.Admin, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	return parseSamples(t, string(body))
}

func parseSamples(t testing.TB, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsAfterBookings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		var m *metrics.Metrics
		h := newHarness(t, e, withMetrics(&m))
		book := func(email, ip string, status int) {
			t.Helper()
			resp, body := h.do("POST", "/api/v1/bookings", "", validBooking(email), "X-Forwarded-For", ip)
			if resp.StatusCode != status {
				t.Fatalf("booking %s from %s: %d %s, want %d", email, ip, resp.StatusCode, body, status)
			}
		}
		book("one@example.org", "192.0.2.1", 201)
		book("two@example.org", "192.0.2.1", 201)
		book("ONE@example.org", "192.0.2.2", 201) // deduplicated; no second email within 24h
		for i := range 4 {
			book("flood"+strconv.Itoa(i)+"@example.org", "192.0.2.3", 201)
		}
		book("flood9@example.org", "192.0.2.3", 201)
		book("flood10@example.org", "192.0.2.3", 429)
		noConsent := validBooking("x@example.org")
		delete(noConsent, "consent_given")
		resp, body := h.do("POST", "/api/v1/bookings", "", noConsent, "X-Forwarded-For", "192.0.2.4")
		mustProblem(t, resp, body, 422)
		hp := validBooking("bot@example.org")
		hp["website"] = "http://spam.example"
		book2 := func() { // honeypot: a 201 like any other, nothing stored
			resp, body := h.do("POST", "/api/v1/bookings", "", hp, "X-Forwarded-For", "192.0.2.5")
			if resp.StatusCode != 201 {
				t.Fatalf("honeypot: %d %s", resp.StatusCode, body)
			}
		}
		book2()
		h.do("GET", "/no/such/page/for/anyone@example.org", "", nil)

		got := scrape(t, h)
		want := map[string]float64{
			`leads_bookings_total{outcome="accepted"}`:                                              7,
			`leads_bookings_total{outcome="deduplicated"}`:                                          1,
			`leads_bookings_total{outcome="rate_limited"}`:                                          1,
			`leads_bookings_total{outcome="honeypot"}`:                                              1,
			`leads_bookings_total{outcome="replayed"}`:                                              0,
			`leads_booking_refusals_total{rule="` + lead.RuleGDPRConsent + `"}`:                     1,
			`leads_http_requests_total{route="POST /api/v1/bookings",status="201"}`:                 9,
			`leads_http_requests_total{route="POST /api/v1/bookings",status="429"}`:                 1,
			`leads_http_requests_total{route="POST /api/v1/bookings",status="422"}`:                 1,
			`leads_http_request_duration_seconds_count{route="POST /api/v1/bookings",status="201"}`: 9,
			`leads_email_queue_up`:                         1,
			`leads_email_queue_jobs{status="pending"}`:     7, // no worker runs in the harness
			`leads_email_queue_jobs{status="done"}`:        0,
			`leads_email_deliveries_total{outcome="sent"}`: 0,
		}
		for series, v := range want {
			if got[series] != v {
				t.Errorf("%s = %v, want %v", series, got[series], v)
			}
		}
		// unknown paths are one series, and no raw path (which may carry an email) is a label
		if got[`leads_http_requests_total{route="unmatched",status="404"}`] != 1 {
			t.Errorf("unmatched 404 not counted once")
		}
		for series := range got {
			if strings.Contains(series, "@") {
				t.Errorf("a label carries personal data: %s", series)
			}
		}
		pool := "main"
		if e.Name == "sqlite" {
			pool = "write"
		}
		if got[`leads_db_max_open_connections{pool="`+pool+`"}`] < 1 {
			t.Errorf("no pool stats for %s: %v", pool, got[`leads_db_max_open_connections{pool="`+pool+`"}`])
		}
		if _, ok := got[`leads_db_wait_count_total{pool="`+pool+`"}`]; !ok {
			t.Errorf("no wait count for pool %s", pool)
		}
	})
}

// Two servers in one process count separately: nothing is registered globally.
func TestMetricsRegistriesAreSeparate(t *testing.T) {
	e := storetest.Engines()[0]
	var m1, m2 *metrics.Metrics
	h1 := newHarness(t, e, withMetrics(&m1))
	h2 := newHarness(t, e, withMetrics(&m2))
	if resp, body := h1.do("POST", "/api/v1/bookings", "", validBooking("a@example.org"), "X-Forwarded-For", "192.0.2.1"); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got := scrape(t, h1)[`leads_bookings_total{outcome="accepted"}`]; got != 1 {
		t.Errorf("first server accepted = %v, want 1", got)
	}
	if got := scrape(t, h2)[`leads_bookings_total{outcome="accepted"}`]; got != 0 {
		t.Errorf("second server accepted = %v, want 0", got)
	}
}

// With --admin-addr the main address does not serve /metrics, but still records.
func TestMetricsElsewhere(t *testing.T) {
	var m *metrics.Metrics
	h := newHarness(t, storetest.Engines()[0], withMetrics(&m), func(d *httpapi.Deps) { d.MetricsElsewhere = true })
	if resp, _ := h.do("GET", "/metrics", "", nil); resp.StatusCode == http.StatusOK {
		t.Fatalf("/metrics served on the main address although it is elsewhere")
	}
	h.do("GET", "/healthz", "", nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if got := parseSamples(t, rec.Body.String())[`leads_http_requests_total{route="GET /healthz",status="200"}`]; got != 1 {
		t.Fatalf("healthz requests = %v, want 1", got)
	}
}
