package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/corpora"
	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

type bookingAnswer struct {
	BookingID string       `json:"booking_id"`
	Status    string       `json:"status"`
	Warnings  []lead.Issue `json:"warnings"`
}

func rowCount(t testing.TB, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// leadOfBooking reads back the lead a booking was stored under.
func leadOfBooking(t testing.TB, s *store.Store, bookingID string) lead.Lead {
	t.Helper()
	var leadID string
	if err := s.DB().QueryRow(`SELECT lead_id FROM bookings WHERE id = $1`, bookingID).Scan(&leadID); err != nil {
		t.Fatalf("booking %s: %v", bookingID, err)
	}
	l, err := s.GetLead(t.Context(), leadID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestBookingAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)

		t.Run("new and known emails get the same 201 shape", func(t *testing.T) {
			resp, body := h.do("POST", "/api/v1/bookings", "", validBooking("same@example.org"), "X-Forwarded-For", "192.0.2.10")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			first := decode[map[string]any](t, body)
			resp, body = h.do("POST", "/api/v1/bookings", "", validBooking("SAME@example.org"), "X-Forwarded-For", "192.0.2.11")
			second := decode[map[string]any](t, body)
			if resp.StatusCode != http.StatusCreated || len(first) != len(second) || first["status"] != "received" ||
				second["status"] != "received" || first["booking_id"] == second["booking_id"] {
				t.Fatalf("answers differ in shape: %v vs %v", first, second)
			}
			for k := range first {
				if _, ok := second[k]; !ok {
					t.Fatalf("key %s missing from the known-email answer", k)
				}
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'same@example.org'`); n != 1 {
				t.Fatalf("leads = %d", n)
			}
		})

		t.Run("form-encoded body works like JSON", func(t *testing.T) {
			form := url.Values{"first_name": {"Kari"}, "last_name": {"Nordmann"}, "email": {"form@example.no"},
				"organization_name": {"Frivillig"}, "consent_given": {"on"}, "phone": {"22 33 44 55"}}
			resp, body := h.do("POST", "/api/v1/bookings", "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
				"X-Forwarded-For", "192.0.2.12")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			l := leadOfBooking(t, h.Store, decode[bookingAnswer](t, body).BookingID)
			if l.FirstName != "Kari" || l.Phone == nil || *l.Phone != "+4722334455" {
				t.Fatalf("lead %+v", l)
			}
		})

		t.Run("phone warning is reported and does not block", func(t *testing.T) {
			b := validBooking("warn@example.org")
			b["phone"] = "call me maybe"
			resp, body := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.13")
			a := decode[bookingAnswer](t, body)
			if resp.StatusCode != http.StatusCreated || !hasIssue(a.Warnings, "phone", lead.RulePhoneFormat) {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if l := leadOfBooking(t, h.Store, a.BookingID); l.Phone == nil || *l.Phone != "call me maybe" {
				t.Fatalf("phone not kept as given: %+v", l.Phone)
			}
		})

		t.Run("every failing field is reported at once, nothing stored", func(t *testing.T) {
			before := rowCount(t, h.Store, `SELECT COUNT(*) FROM bookings`)
			b := map[string]any{"first_name": " ", "email": "not-an-email", "organization_name": "<b>x</b>",
				"message": strings.Repeat("x", 5001), "consent_given": true, "phone": "nope"}
			resp, body := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.14")
			p := mustProblem(t, resp, body, http.StatusUnprocessableEntity)
			for _, want := range [][2]string{
				{"first_name", lead.RuleRequiredFields}, {"last_name", lead.RuleRequiredFields},
				{"email", lead.RuleEmailFormat}, {"organization_name", lead.RuleXSS}, {"message", lead.RuleMessageLength},
			} {
				if !hasIssue(p.Errors, want[0], want[1]) {
					t.Errorf("missing %v in %+v", want, p.Errors)
				}
			}
			if !hasIssue(p.Warnings, "phone", lead.RulePhoneFormat) {
				t.Errorf("warning missing: %+v", p.Warnings)
			}
			if after := rowCount(t, h.Store, `SELECT COUNT(*) FROM bookings`); after != before {
				t.Fatalf("bookings %d -> %d", before, after)
			}
		})

		t.Run("consent refused or missing stores nothing", func(t *testing.T) {
			for _, consent := range []any{false, nil, "no"} {
				b := validBooking("noconsent@example.org")
				if consent == nil {
					delete(b, "consent_given")
				} else {
					b["consent_given"] = consent
				}
				resp, body := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.15")
				p := mustProblem(t, resp, body, http.StatusUnprocessableEntity)
				if !hasIssue(p.Errors, "consent_given", lead.RuleGDPRConsent) {
					t.Fatalf("consent %v: %+v", consent, p.Errors)
				}
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM bookings WHERE email = 'noconsent@example.org'`) +
				rowCount(t, h.Store, `SELECT COUNT(*) FROM leads WHERE email = 'noconsent@example.org'`); n != 0 {
				t.Fatalf("stored %d rows without consent", n)
			}
		})

		t.Run("a client-sent consent_timestamp is ignored", func(t *testing.T) {
			b := validBooking("clock@example.org")
			b["consent_timestamp"] = "2001-01-01T00:00:00Z"
			resp, body := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.16")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			l := leadOfBooking(t, h.Store, decode[bookingAnswer](t, body).BookingID)
			if l.ConsentTimestamp == nil || !l.ConsentTimestamp.Equal(h.Clock.Now()) {
				t.Fatalf("consent_timestamp %v, want the server clock %v", l.ConsentTimestamp, h.Clock.Now())
			}
		})

		t.Run("honeypot gets the same 201 and stores nothing", func(t *testing.T) {
			b := validBooking("bot@example.org")
			b["website"] = "http://spam.example"
			resp, body := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.17")
			if a := decode[bookingAnswer](t, body); resp.StatusCode != http.StatusCreated || a.BookingID == "" || a.Status != "received" {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM leads WHERE email = 'bot@example.org'`); n != 0 {
				t.Fatal("honeypot booking stored")
			}
		})

		t.Run("Idempotency-Key replays the first answer", func(t *testing.T) {
			b := validBooking("double@example.org")
			r1, b1 := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.18", "Idempotency-Key", "click-1")
			r2, b2 := h.do("POST", "/api/v1/bookings", "", b, "X-Forwarded-For", "192.0.2.18", "Idempotency-Key", "click-1")
			if r1.StatusCode != 201 || r2.StatusCode != 201 || decode[bookingAnswer](t, b1).BookingID != decode[bookingAnswer](t, b2).BookingID {
				t.Fatalf("%d %s / %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM bookings WHERE email = 'double@example.org'`); n != 1 {
				t.Fatalf("bookings = %d", n)
			}
		})

		t.Run("malformed, oversized and wrongly typed bodies", func(t *testing.T) {
			tests := []struct {
				name   string
				body   string
				ctype  string
				status int
			}{
				{"broken JSON", `{"first_name": `, "application/json", 400},
				{"JSON array", `[1,2]`, "application/json", 400},
				{"JSON null", `null`, "application/json", 400},
				{"trailing data", `{} {}`, "application/json", 400},
				{"number for a string", `{"first_name": 7}`, "application/json", 400},
				{"object for consent", `{"consent_given": {}}`, "application/json", 400},
				{"text/plain", `first_name=x`, "text/plain", 415},
				{"no content type", `{}`, "", 415},
				{"multipart", `--x--`, "multipart/form-data; boundary=x", 415},
				{"bad form encoding", `first_name=%zz`, "application/x-www-form-urlencoded", 400},
				{"65 KiB", `{"message": "` + strings.Repeat("a", 65<<10) + `"}`, "application/json", 413},
				{"empty JSON object", `{}`, "application/json", 422},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := h.do("POST", "/api/v1/bookings", "", tt.body, "Content-Type", tt.ctype, "X-Forwarded-For", "192.0.2.19")
					mustProblem(t, resp, body, tt.status)
				})
			}
		})

		t.Run("the sixth booking in an hour gets 429 with Retry-After", func(t *testing.T) {
			for i := range 5 {
				resp, body := h.do("POST", "/api/v1/bookings", "", validBooking(fmt.Sprintf("limit%d@example.org", i)), "X-Forwarded-For", "198.51.100.1")
				if resp.StatusCode != 201 {
					t.Fatalf("booking %d: %d %s", i, resp.StatusCode, body)
				}
			}
			h.Clock.Advance(10 * time.Minute)
			resp, body := h.do("POST", "/api/v1/bookings", "", validBooking("limit5@example.org"), "X-Forwarded-For", "198.51.100.1")
			p := mustProblem(t, resp, body, http.StatusTooManyRequests)
			if p.Rule != lead.RuleRateLimit {
				t.Fatalf("rule %q", p.Rule)
			}
			if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra != 50*60 {
				t.Fatalf("Retry-After %q, want 3000", resp.Header.Get("Retry-After"))
			}
			// refused again without a transaction, Retry-After counting down with the clock,
			// and accepted again once the oldest booking left the window
			h.Clock.Advance(10 * time.Minute)
			resp, body = h.do("POST", "/api/v1/bookings", "", validBooking("limit5@example.org"), "X-Forwarded-For", "198.51.100.1")
			mustProblem(t, resp, body, http.StatusTooManyRequests)
			if ra := resp.Header.Get("Retry-After"); ra != "2400" {
				t.Fatalf("second Retry-After %q, want 2400", ra)
			}
			h.Clock.Advance(40*time.Minute + time.Second)
			resp, body = h.do("POST", "/api/v1/bookings", "", validBooking("limit5@example.org"), "X-Forwarded-For", "198.51.100.1")
			if resp.StatusCode != 201 {
				t.Fatalf("after the window: %d %s", resp.StatusCode, body)
			}
			// validation failures and 429s do not count: another IP is unaffected
			resp, _ = h.do("POST", "/api/v1/bookings", "", validBooking("limit6@example.org"), "X-Forwarded-For", "198.51.100.2")
			if resp.StatusCode != 201 {
				t.Fatalf("other IP: %d", resp.StatusCode)
			}
		})

		t.Run("50 simultaneous bookings from one IP: exactly 5 accepted", func(t *testing.T) {
			codes := parallelBookings(t, h, 50, func(i int) (map[string]any, string) {
				return validBooking(fmt.Sprintf("burst%d@example.org", i)), "203.0.113.50"
			})
			if codes[201] != 5 || codes[429] != 45 {
				t.Fatalf("answers %v", codes)
			}
		})

		t.Run("20 simultaneous bookings of one email from 20 IPs: one lead, 20 bookings, one email", func(t *testing.T) {
			codes := parallelBookings(t, h, 20, func(i int) (map[string]any, string) {
				return validBooking("crowd@example.org"), fmt.Sprintf("203.0.113.%d", 100+i)
			})
			if codes[201] != 20 {
				t.Fatalf("answers %v", codes)
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'crowd@example.org'`); n != 1 {
				t.Fatalf("leads = %d", n)
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM bookings WHERE email = 'crowd@example.org'`); n != 20 {
				t.Fatalf("bookings = %d", n)
			}
			if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM email_jobs j JOIN leads l ON l.id = j.lead_id WHERE l.email_normalized = 'crowd@example.org'`); n != 1 {
				t.Fatalf("email jobs = %d", n)
			}
		})
	})
}

// parallelBookings fires n bookings at once and counts the answers by status.
func parallelBookings(t *testing.T, h *harness, n int, mk func(i int) (map[string]any, string)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		body, ip := mk(i)
		wg.Go(func() {
			<-start
			resp, _ := h.do("POST", "/api/v1/bookings", "", body, "X-Forwarded-For", ip)
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return codes
}

func TestClientIPIgnoresHeadersFromUntrustedPeers(t *testing.T) {
	untrusted, err := httpapi.NewClientIP(nil)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := httpapi.NewClientIP([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		c      *httpapi.ClientIP
		remote string
		xff    string
		want   string
	}{
		{"no proxies: header ignored", untrusted, "192.0.2.1:5000", "1.2.3.4", "192.0.2.1"},
		{"untrusted peer: header ignored", trusted, "192.0.2.1:5000", "1.2.3.4", "192.0.2.1"},
		{"trusted peer: rightmost untrusted", trusted, "10.1.2.3:5000", "6.6.6.6, 198.51.100.9, 10.0.0.7", "198.51.100.9"},
		{"trusted peer, no header", trusted, "127.0.0.1:5000", "", "127.0.0.1"},
		{"IPv6 peer", untrusted, "[2001:db8::1]:443", "1.2.3.4", "2001:db8::1"},
		{"IPv4-mapped peer", untrusted, "[::ffff:192.0.2.5]:80", "", "192.0.2.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := tt.c.Of(r); got != tt.want {
				t.Fatalf("Of = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := httpapi.NewClientIP([]string{"not-a-cidr"}); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}

// TestBookingCorpora sends every BLNS string in each text field (201 or 422, and read back
// byte for byte when stored) and every XSS payload as the message (422 or stored verbatim).
func TestBookingCorpora(t *testing.T) {
	blns := corpora.BLNS(t)
	xss := corpora.Lines(t, "xss-payloads.txt")
	fields := []string{"first_name", "last_name", "phone", "organization_name", "organization_type",
		"organization_size", "role_title", "message", "utm_source", "utm_medium", "utm_campaign"}
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, func(d *httpapi.Deps) { d.Intake.RateLimit.Count = 0 })
		type job struct {
			field, value string
		}
		var jobs []job
		for _, f := range fields {
			for _, s := range blns {
				jobs = append(jobs, job{f, s})
			}
		}
		for _, s := range xss {
			jobs = append(jobs, job{"message", s})
		}
		ch := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := 0
		for range 8 {
			wg.Go(func() {
				for i := range ch {
					j := jobs[i]
					b := validBooking(fmt.Sprintf("corpus%d@example.org", i))
					b[j.field] = j.value
					resp, body := h.do("POST", "/api/v1/bookings", "", b)
					switch resp.StatusCode {
					case 422:
						continue
					case 201:
					default:
						t.Errorf("%s=%q: status %d: %s", j.field, j.value, resp.StatusCode, body)
						continue
					}
					l := leadOfBooking(t, h.Store, decode[bookingAnswer](t, body).BookingID)
					got := map[string]*string{"first_name": &l.FirstName, "last_name": &l.LastName, "phone": l.Phone,
						"organization_name": &l.OrganizationName, "organization_type": l.OrganizationType,
						"organization_size": l.OrganizationSize, "role_title": l.RoleTitle, "message": l.Message,
						"utm_source": l.UTMSource, "utm_medium": l.UTMMedium, "utm_campaign": l.UTMCampaign}[j.field]
					want := j.value
					if j.field == "message" {
						want = strings.ReplaceAll(strings.ReplaceAll(want, "\r\n", "\n"), "\r", "\n")
					}
					switch {
					case strings.TrimSpace(want) == "":
						if got != nil && *got != "" && j.field != "first_name" {
							t.Errorf("%s=%q: blank stored as %q", j.field, j.value, *got)
						}
					case j.field == "phone":
						// stored in E.164 when it parses, else trimmed as given
					case got == nil || *got != want:
						t.Errorf("%s=%q read back as %v", j.field, j.value, got)
					}
					mu.Lock()
					stored++
					mu.Unlock()
				}
			})
		}
		for i := range jobs {
			ch <- i
		}
		close(ch)
		wg.Wait()
		t.Logf("%d corpus bookings, %d stored", len(jobs), stored)
		if stored == 0 {
			t.Fatal("nothing stored: the corpus test proves nothing")
		}
	})
}
