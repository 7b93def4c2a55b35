package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.Store.DB().QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

const formType = "application/x-www-form-urlencoded"

// Issue 11 points 1–4: blank-with-newlines is required_fields_present; invalid UTF-8 and
// lone surrogates in JSON are invalid_characters on the field (public and staff), never
// stored as U+FFFD; a member named twice is 400; domain-like names are refused.
func TestHardenedInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		tests := []struct {
			name, body string
			status     int
			field      string
			rule       string
		}{
			{"blank name with newline", `{"first_name":" \n ","last_name":"L","email":"b1@example.org","organization_name":"O","consent_given":true}`,
				422, "first_name", lead.RuleRequiredFields},
			{"lone surrogate", `{"first_name":"Ada\ud800","last_name":"L","email":"b2@example.org","organization_name":"O","consent_given":true}`,
				422, "first_name", lead.RuleInvalidCharacters},
			{"lone surrogate in message", `{"first_name":"Ada","last_name":"L","email":"b3@example.org","organization_name":"O","message":"\udc00 hi","consent_given":true}`,
				422, "message", lead.RuleInvalidCharacters},
			{"raw invalid UTF-8", "{\"first_name\":\"Ada\",\"last_name\":\"L\xff\",\"email\":\"b4@example.org\",\"organization_name\":\"O\",\"consent_given\":true}",
				422, "last_name", lead.RuleInvalidCharacters},
			{"duplicate consent", `{"first_name":"Ada","last_name":"L","email":"b5@example.org","organization_name":"O","consent_given":false,"consent_given":true}`,
				400, "", ""},
			{"short link as name", `{"first_name":"bit.ly/3xYz","last_name":"L","email":"b6@example.org","organization_name":"O","consent_given":true}`,
				422, "first_name", lead.RuleNameFormat},
			{"domain as name", `{"first_name":"Ada","last_name":"evil-prize.example","email":"b7@example.org","organization_name":"O","consent_given":true}`,
				422, "last_name", lead.RuleNameFormat},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, data := h.do("POST", "/api/v1/bookings", "", tt.body)
				p := mustProblem(t, resp, data, tt.status)
				if tt.field != "" && !hasIssue(p.Errors, tt.field, tt.rule) {
					t.Fatalf("want %s on %s: %+v", tt.rule, tt.field, p.Errors)
				}
			})
		}
		if n := h.count(`SELECT COUNT(*) FROM leads`) + h.count(`SELECT COUNT(*) FROM bookings`); n != 0 {
			t.Fatalf("%d rows stored by refused bookings", n)
		}

		// the same rules hold for staff create and patch, and the notes route
		create := `{"first_name":"Ada\ud800","last_name":"L","email":"s1@example.org","organization_name":"O","source":"manual","consent_given":true,"consent_timestamp":"2026-01-01T00:00:00Z"}`
		resp, data := h.do("POST", "/api/v1/leads", h.Sales, create)
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "first_name", lead.RuleInvalidCharacters) {
			t.Fatalf("staff create: %+v", p.Errors)
		}
		dup := `{"first_name":"Ada","first_name":"Eve","last_name":"L","email":"s2@example.org","organization_name":"O","source":"manual","consent_given":true,"consent_timestamp":"2026-01-01T00:00:00Z"}`
		resp, data = h.do("POST", "/api/v1/leads", h.Sales, dup)
		mustProblem(t, resp, data, 400)
		resp, data = h.do("POST", "/api/v1/bookings", "", validBooking("patched@example.org"))
		if resp.StatusCode != 201 {
			t.Fatalf("booking: %d %s", resp.StatusCode, data)
		}
		var id string
		if err := h.Store.DB().QueryRow(`SELECT id FROM leads WHERE email = 'patched@example.org'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		resp, data = h.do("PATCH", "/api/v1/leads/"+id, h.Sales, `{"role_title":"x\ud800"}`, "Content-Type", "application/merge-patch+json")
		if p := mustProblem(t, resp, data, 422); !hasIssue(p.Errors, "role_title", lead.RuleInvalidCharacters) {
			t.Fatalf("patch: %+v", p.Errors)
		}
		resp, data = h.do("PATCH", "/api/v1/leads/"+id, h.Sales, `{"status":"contacted","status":"won"}`, "Content-Type", "application/merge-patch+json")
		mustProblem(t, resp, data, 400)
		if n := h.count(`SELECT COUNT(*) FROM leads WHERE role_title IS NOT NULL OR status <> 'new'`); n != 0 {
			t.Fatalf("a refused patch changed %d leads", n)
		}
	})
}

// Issue 11 point 5: the same Idempotency-Key with a different body is 422
// idempotency_key_reused and stores nothing; the same body, reordered, replays.
func TestIdempotencyKeyReused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		first := `{"first_name":"Ada","last_name":"Lovelace","email":"idem@example.org","organization_name":"O","consent_given":true}`
		resp, data := h.do("POST", "/api/v1/bookings", "", first, "Idempotency-Key", "k-11")
		if resp.StatusCode != 201 {
			t.Fatalf("first: %d %s", resp.StatusCode, data)
		}
		reordered := "{\"consent_given\": true,\n \"organization_name\": \"O\", \"email\": \"idem@example.org\", \"last_name\": \"Lovelace\", \"first_name\": \"Ada\"}"
		resp, again := h.do("POST", "/api/v1/bookings", "", reordered, "Idempotency-Key", "k-11")
		if resp.StatusCode != 201 || string(again) != string(data) {
			t.Fatalf("same body reordered: %d %s, want the first answer %s", resp.StatusCode, again, data)
		}
		other := `{"first_name":"Eve","last_name":"Other","email":"other@example.org","organization_name":"O","consent_given":true}`
		resp, body := h.do("POST", "/api/v1/bookings", "", other, "Idempotency-Key", "k-11")
		if p := mustProblem(t, resp, body, 422); p.Rule != lead.RuleIdempotencyReused {
			t.Fatalf("other body: rule %q, want %s", p.Rule, lead.RuleIdempotencyReused)
		}
		// a form: values sorted by name count, their order in the body does not
		resp, data = h.do("POST", "/api/v1/bookings", "", "first_name=Bo&last_name=B&email=form%40example.org&organization_name=O&consent_given=on",
			"Content-Type", formType, "Idempotency-Key", "k-form")
		if resp.StatusCode != 201 {
			t.Fatalf("form: %d %s", resp.StatusCode, data)
		}
		resp, again = h.do("POST", "/api/v1/bookings", "", "consent_given=on&organization_name=O&email=form%40example.org&last_name=B&first_name=Bo",
			"Content-Type", formType, "Idempotency-Key", "k-form")
		if resp.StatusCode != 201 || string(again) != string(data) {
			t.Fatalf("form reordered: %d %s", resp.StatusCode, again)
		}
		resp, body = h.do("POST", "/api/v1/bookings", "", "first_name=Bo&last_name=C&email=form%40example.org&organization_name=O&consent_given=on",
			"Content-Type", formType, "Idempotency-Key", "k-form")
		if p := mustProblem(t, resp, body, 422); p.Rule != lead.RuleIdempotencyReused {
			t.Fatalf("form with another value: %+v", p)
		}
		if n := h.count(`SELECT COUNT(*) FROM bookings`); n != 2 {
			t.Fatalf("%d bookings, want 2", n)
		}
	})
}

// Issue 11 point 6: six addresses of one /64 share its limit; another /64 does not.
func TestRateLimitIPv6Prefix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, func(d *httpapi.Deps) { d.Intake.RateLimit = intake.RateLimit{Count: 2, Window: time.Hour} })
		codes := map[int]int{}
		for i := range 6 {
			resp, _ := h.do("POST", "/api/v1/bookings", "", validBooking(fmt.Sprintf("v6-%d@example.org", i)),
				"X-Forwarded-For", fmt.Sprintf("2001:db8:5:6:%x::%x", i*7, i+1))
			codes[resp.StatusCode]++
		}
		if codes[201] != 2 || codes[429] != 4 {
			t.Fatalf("six addresses of one /64: %v, want 2×201 and 4×429", codes)
		}
		resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("v6-other@example.org"), "X-Forwarded-For", "2001:db8:5:7::1")
		if resp.StatusCode != 201 {
			t.Fatalf("another /64: %d %s", resp.StatusCode, data)
		}
	})
}

// Issue 11 point 7: only the configured header is believed from a trusted proxy.
func TestClientIPHeaderIsConfigured(t *testing.T) {
	xff, err := httpapi.NewClientIPHeader([]string{"10.0.0.0/8"}, "X-Forwarded-For")
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := httpapi.NewClientIPHeader([]string{"10.0.0.0/8"}, "forwarded")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		c        *httpapi.ClientIP
		xff, fwd string
		want     string
	}{
		{"XFF proxy, XFF header", xff, "198.51.100.1", "", "198.51.100.1"},
		{"XFF proxy ignores a client's Forwarded", xff, "", "for=203.0.113.66", "10.0.0.1"},
		{"Forwarded proxy, Forwarded header", fwd, "", "for=198.51.100.2", "198.51.100.2"},
		{"Forwarded proxy ignores a client's XFF", fwd, "203.0.113.66", "for=198.51.100.2", "198.51.100.2"},
		{"Forwarded proxy, only XFF sent", fwd, "203.0.113.66", "", "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:4000"
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.fwd != "" {
				r.Header.Set("Forwarded", tt.fwd)
			}
			if got := tt.c.Of(r); got != tt.want {
				t.Fatalf("Of = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := httpapi.NewClientIPHeader(nil, "X-Real-IP"); err == nil {
		t.Fatal("an unsupported header was accepted")
	}
}

// Issue 11 point 8: /metrics on the public address needs an admin token.
func TestMetricsNeedAdminTokenOnPublicAddress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		var m *metrics.Metrics
		h := newHarness(t, e, withMetrics(&m))
		for _, c := range []struct {
			token  string
			status int
		}{{"", 401}, {"not-a-token", 401}, {h.Sales, 403}, {h.Admin, 200}} {
			resp, body := h.do("GET", "/metrics", c.token, nil)
			if resp.StatusCode != c.status {
				t.Fatalf("token %q: %d, want %d", c.token, resp.StatusCode, c.status)
			}
			if c.status != 200 && strings.Contains(string(body), "leads_bookings_total") {
				t.Fatalf("counters shown to token %q", c.token)
			}
		}
	})
}

// Issue 11 point 9: a browser's cross-site form post is 403 and stores nothing; JSON and
// server-to-server posts are unaffected.
func TestCrossSiteFormBookingRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		form := func(email string) string {
			return "first_name=Ada&last_name=L&email=" + email + "%40example.org&organization_name=O&consent_given=on"
		}
		for _, c := range []struct {
			name   string
			hdr    []string
			status int
		}{
			{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, 403},
			{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}, 403},
			{"foreign Origin", []string{"Origin", "https://evil.example"}, 403},
			{"same origin", []string{"Sec-Fetch-Site", "same-origin"}, 201},
			{"server to server", nil, 201},
		} {
			resp, body := h.do("POST", "/api/v1/bookings", "", form(strings.ReplaceAll(c.name, " ", "")),
				append([]string{"Content-Type", formType}, c.hdr...)...)
			if resp.StatusCode != c.status {
				t.Fatalf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.status)
			}
			if c.status == 403 {
				mustProblem(t, resp, body, 403)
			}
		}
		resp, body := h.do("POST", "/api/v1/bookings", "", validBooking("json-cross@example.org"), "Sec-Fetch-Site", "cross-site",
			"Origin", "https://partner.example")
		if resp.StatusCode != 201 {
			t.Fatalf("JSON from another origin: %d %s", resp.StatusCode, body)
		}
		if n := h.count(`SELECT COUNT(*) FROM bookings`); n != 3 {
			t.Fatalf("%d bookings, want 3 (two forms, one JSON)", n)
		}
	})
}

// Issue 11 point 11: an import announcing 50 MiB and sending a few bytes holds memory for
// the bytes, not the announcement.
func TestImportMemoryFollowsArrivingBytes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		var deps httpapi.Deps
		h := newHarness(t, e, func(d *httpapi.Deps) { deps = *d })
		handler := httpapi.NewServer(deps)
		send := func() *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/api/v1/imports", strings.NewReader("first_name\n"))
			r.ContentLength = 50 << 20
			r.Header.Set("Content-Type", "text/csv")
			r.Header.Set("Authorization", "Bearer "+h.Sales)
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			return w
		}
		send() // warm up: statements prepared, pools filled
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w := send()
		runtime.ReadMemStats(&after)
		if w.Code >= 500 {
			t.Fatalf("import: %d %s", w.Code, w.Body)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
			t.Fatalf("an import of 11 bytes announcing 50 MiB allocated %d bytes", grew)
		}
	})
}

// Issue 11 point 11: imports are bounded; one more than the bound is 503 with Retry-After,
// answered at once even while its own body is still open, and a finished (or timed out)
// upload gives its place back.
func TestImportsAreBoundedAndIdleUploadsCut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, func(d *httpapi.Deps) { d.MaxImports = 1; d.ImportIdleTimeout = 300 * time.Millisecond })
		type result struct {
			status     int
			retryAfter string
			err        error
		}
		// startUpload opens an import whose body the test writes. The body is closed at
		// cleanup at the latest: an upload left open would hold the server (and its Close).
		startUpload := func() (*io.PipeWriter, chan result) {
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			req, _ := http.NewRequest("POST", h.URL+"/api/v1/imports", pr)
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Authorization", "Bearer "+h.Sales)
			done := make(chan result, 1)
			go func() {
				resp, err := h.Client.Do(req)
				if err != nil {
					done <- result{err: err}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
			}()
			return pw, done
		}
		wait := func(done chan result, what string) result {
			t.Helper()
			select {
			case r := <-done:
				return r
			case <-time.After(60 * time.Second):
				t.Fatalf("%s: never answered", what)
				return result{}
			}
		}
		// small is an import of a header the importer ignores: 200, nothing stored
		small := func() (*http.Response, []byte) {
			return h.do("POST", "/api/v1/imports", h.Sales, "nonsense\n", "Content-Type", "text/csv")
		}
		// waitBusy sends small imports until one is turned away while the upload of done is
		// open: true once that upload holds the slot; false if the upload itself was turned
		// away (it reached the server while a small import held the slot).
		waitBusy := func(done chan result) bool {
			t.Helper()
			for range 500 {
				select {
				case r := <-done:
					if r.err == nil && r.status == http.StatusServiceUnavailable {
						return false
					}
					t.Fatalf("an open upload was answered: %+v", r)
				default:
				}
				resp, body := small()
				if resp.StatusCode == http.StatusServiceUnavailable {
					mustProblem(t, resp, body, 503)
					if resp.Header.Get("Retry-After") == "" {
						t.Fatal("503 without Retry-After")
					}
					return true
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("small import: %d %s", resp.StatusCode, body)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Fatal("a second import was never refused while the first was uploading")
			return false
		}
		// holdSlot starts an upload that sends first and then waits, and returns once it
		// holds the only import slot
		holdSlot := func(first string) (*io.PipeWriter, chan result) {
			t.Helper()
			for range 50 {
				pw, done := startUpload()
				pw.Write([]byte(first))
				if waitBusy(done) {
					return pw, done
				}
				pw.Close()
			}
			t.Fatal("an upload never got the import slot")
			return nil, nil
		}

		pw, done := holdSlot("first_name,last_name,email,organization_name,consent_given,consent_timestamp\n")
		// a refused upload is answered although its body has not ended
		pw2, done2 := startUpload()
		pw2.Write([]byte("first_name,last_name\n"))
		if r := wait(done2, "an upload refused while its body is open"); r.err != nil || r.status != 503 || r.retryAfter == "" {
			t.Fatalf("an upload beyond the bound: %+v, want 503 with Retry-After", r)
		}
		pw2.Close()
		pw.Write([]byte("Ada,Lovelace,ada.import@example.org,O,true,2026-01-01T00:00:00Z\n"))
		pw.Close()
		if r := wait(done, "the first import"); r.err != nil || r.status != 200 {
			t.Fatalf("the first import: %+v", r)
		}
		if resp, body := small(); resp.StatusCode != http.StatusOK {
			t.Fatalf("after the first import finished: %d %s", resp.StatusCode, body)
		}

		// an upload that stops sending is cut off and frees its place
		pw, done = holdSlot("first_name,last_name\n")
		if r := wait(done, "an idle upload"); r.err == nil && r.status != http.StatusRequestTimeout {
			t.Fatalf("idle upload: %+v, want 408 or a closed connection", r)
		}
		pw.Close()
		if resp, body := small(); resp.StatusCode != http.StatusOK {
			t.Fatalf("after the idle upload was cut: %d %s", resp.StatusCode, body)
		}
		if n := h.count(`SELECT COUNT(*) FROM leads`); n != 1 {
			t.Fatalf("%d leads, want the one of the finished import", n)
		}
	})
}

// Issue 11 points 13, 14: personal data is not cached; an empty search is [].
func TestNoStoreAndEmptySearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("cache@example.org"))
		if resp.StatusCode != 201 {
			t.Fatalf("booking: %d %s", resp.StatusCode, data)
		}
		var id string
		if err := h.Store.DB().QueryRow(`SELECT id FROM leads`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/leads/" + id + "/events", "/api/v1/leads/" + id + "/bookings",
			"/api/v1/leads/" + id, "/api/v1/leads", "/api/v1/leads.csv", "/api/v1/stats/pipeline",
			"/api/v1/leads/" + id + "/export", "/api/v1/webhooks"} {
			resp, data := h.do("GET", path, h.Admin, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: %d Cache-Control %q %s", path, resp.StatusCode, resp.Header.Get("Cache-Control"), data)
			}
		}
		for _, q := range []string{"zzzqqq", "xq", "nomatchatall", "Ada%20zzzqqq"} {
			resp, data := h.do("GET", "/api/v1/leads?q="+q, h.Sales, nil)
			if resp.StatusCode != 200 || !strings.Contains(string(data), `"items":[]`) {
				t.Fatalf("q=%s: %d %s, want \"items\":[]", q, resp.StatusCode, data)
			}
		}
	})
}
