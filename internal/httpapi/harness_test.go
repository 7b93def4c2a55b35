package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// harness is the real API over real TCP on a fresh database, with a sales and an admin token.
type harness struct {
	t      testing.TB
	URL    string
	Store  *store.Store
	Clock  *storetest.Clock
	Sales  string
	Admin  string
	Client *http.Client
}

type harnessOpt func(*httpapi.Deps)

// newHarness starts the API on engine e. The clock starts at the real time, so that
// time-ordered ids and created_at agree; tests move it with h.Clock.Advance.
func newHarness(t testing.TB, e storetest.Engine, opts ...harnessOpt) *harness {
	t.Helper()
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	st := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
	// loopback is a trusted proxy here, so tests choose client IPs with X-Forwarded-For
	clientIP, err := httpapi.NewClientIP([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	d := httpapi.Deps{
		ClientIP: clientIP,
		Store:    st,
		// the spam check is off here (spam_test.go turns it on): these tests are about the rest
		Intake: &intake.Service{Store: st, RateLimit: intake.RateLimit{Count: 5, Window: time.Hour}, ConsentVersion: "test-1", Now: clock.Now,
			SpamPolicy: spam.PolicyOff},
		Now: clock.Now,
	}
	for _, o := range opts {
		o(&d)
	}
	srv := httptest.NewServer(httpapi.NewServer(d))
	t.Cleanup(srv.Close)
	h := &harness{t: t, URL: srv.URL, Store: st, Clock: clock, Client: srv.Client()}
	ctx := t.Context()
	if h.Sales, _, err = st.CreateToken(ctx, "sally-sales", lead.RoleSales); err != nil {
		t.Fatal(err)
	}
	if h.Admin, _, err = st.CreateToken(ctx, "adam-admin", lead.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	return h
}

// do sends a request; body may be nil, a string/[]byte (sent as is) or any value (sent as
// JSON). hdr is name, value pairs; a "Content-Type" pair overrides the default.
func (h *harness) do(method, path, token string, body any, hdr ...string) (*http.Response, []byte) {
	h.t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	case []byte:
		r, ctype = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, h.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, data
}

// decode unmarshals JSON or fails the test.
func decode[T any](t testing.TB, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, data, err)
	}
	return v
}

// validBooking is a booking body that passes every rule.
func validBooking(email string) map[string]any {
	return map[string]any{
		"first_name": "Ada", "last_name": "Lovelace", "email": email, "organization_name": "Analytical Mentors",
		"organization_type": "non-profit", "message": "We run 40 mentors.", "consent_given": true,
	}
}

// problem is the decoded problem+json answer.
type problem struct {
	Type           string        `json:"type"`
	Title          string        `json:"title"`
	Status         int           `json:"status"`
	Detail         string        `json:"detail"`
	Rule           string        `json:"rule"`
	Errors         []lead.Issue  `json:"errors"`
	Warnings       []lead.Issue  `json:"warnings"`
	ExistingLeadID string        `json:"existing_lead_id"`
	Allowed        []lead.Status `json:"allowed"`
}

// mustProblem checks status and content type and returns the problem.
func mustProblem(t testing.TB, resp *http.Response, data []byte, status int) problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q: %s", ct, data)
	}
	p := decode[problem](t, data)
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v", p)
	}
	return p
}

// hasIssue reports whether issues name field with rule.
func hasIssue(issues []lead.Issue, field, rule string) bool {
	for _, i := range issues {
		if i.Field == field && i.Rule == rule {
			return true
		}
	}
	return false
}
