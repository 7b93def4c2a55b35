package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
)

// privDo sends a request with an optional bearer token; body is sent as is.
func privDo(t *testing.T, p *program, method, path, token, ctype, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// privToken creates a staff token with the real `leads token create` command.
func privToken(t *testing.T, db, name, role string, logs io.Writer) string {
	t.Helper()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"leads", "token", "create", "--name", name, "--role", role, "--database", db},
		func(string) string { return "" }, &stdout, logs); err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(stdout.String())
}

// TestLogsCarryNoPersonalData runs the real program through bookings (new, deduplicated,
// form-encoded, refused, rate limited), a failing SMTP delivery, staff reads, edits and
// notes, searches, webhook deliveries, the web console, an export and erasures, then
// checks that all its log output holds none of the names, emails, phone numbers, messages,
// user agents or tokens that went through it.
func TestLogsCarryNoPersonalData(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "leads.db")
	cliLogs := &syncBuffer{}
	admin := privToken(t, db, "priv-admin", "admin", cliLogs)
	sales := privToken(t, db, "priv-sales", "sales", cliLogs)
	bogus := "lds_Bogus0TokenThatMustNeverBeLogged0000000000000"

	smtp := mailtest.Start(t)
	smtp.FailNext(1) // the first delivery fails and is retried
	var hooks atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hooks.Add(1) == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable) // a failed delivery is logged
		}
	}))
	defer receiver.Close()
	p := startProgram(t, nil, "--database", db, "--smtp", smtp.URL(), "--mail-retry", "50ms", "--rate-limit", "3/1h",
		"--allow-private-webhooks")

	type person struct{ first, last, email, phone, phoneE164, role, message, ua string }
	ann := person{"Annelise", "Wintergrape", "Annelise.Wintergrape@Privacy-Probe.example", "+47 915 55 123", "+4791555123",
		"Head of Quokkas", "We mentor 35 Thistlewick volunteers", "AnnBrowser/7.7 (Quokka)"}
	bo := person{"Borghild", "Snailwhistle", "borghild.snail@privacy-probe.example", "+47 916 66 234", "+4791666234",
		"Volunteer Marmot", "Borghild asks about Fernhollow", "BoBrowser/1.2"}
	cy := person{"Cyprianne", "Oddlantern", "cyp.oddlantern@privacy-probe.example", "+47 917 77 345", "+4791777345",
		"Treasurer of Voles", "Rate limited Gloamfield request", "CyBrowser/3.4"}
	dedupMessage := "Second Sprocketmoor booking"
	note := "Called Annelise: Bramblequay follow-up"
	newPhone := "+47 918 88 456"
	idemKey := "idem-Pinecrumb-42"
	bookingJSON := func(x person, message string) string {
		b, _ := json.Marshal(map[string]any{"first_name": x.first, "last_name": x.last, "email": x.email, "phone": x.phone,
			"organization_name": "Probe Mentors", "role_title": x.role, "message": message, "consent_given": true,
			"utm_campaign": "privacy-probe"})
		return string(b)
	}

	// a webhook subscription, so that lead snapshots travel through the webhook worker too
	if st, body := privDo(t, p, "POST", "/api/v1/webhooks", admin, "application/json",
		`{"url": "`+receiver.URL+`/hook", "events": ["lead.created", "booking.created", "lead.updated", "lead.anonymized"]}`); st != 201 {
		t.Logf("no webhook subscription (%d %s): webhook logs not exercised", st, body)
	}

	// bookings: new, deduplicated with an idempotency key, form-encoded, refused, rate limited
	for _, c := range []struct {
		body, ctype, ua string
		want            int
		hdr             []string
	}{
		{bookingJSON(ann, ann.message), "application/json", ann.ua, 201, nil},
		{bookingJSON(ann, dedupMessage), "application/json", ann.ua, 201, []string{"Idempotency-Key", idemKey}},
		{url.Values{"first_name": {bo.first}, "last_name": {bo.last}, "email": {bo.email}, "phone": {bo.phone},
			"organization_name": {"Probe Mentors"}, "role_title": {bo.role}, "message": {bo.message}, "consent_given": {"true"}}.Encode(),
			"application/x-www-form-urlencoded", bo.ua, 201, nil},
		{strings.Replace(bookingJSON(cy, cy.message), `"consent_given":true`, `"consent_given":false`, 1), "application/json", cy.ua, 422, nil},
		{strings.Replace(bookingJSON(cy, cy.message), cy.email, cy.first+" <"+cy.email+">", 1), "application/json", cy.ua, 422, nil},
		{`{"first_name": "` + cy.first + `", "email": "` + cy.email, "application/json", cy.ua, 400, nil},
		{bookingJSON(cy, cy.message), "application/json", cy.ua, 429, nil},
	} {
		hdr := append([]string{"User-Agent", c.ua}, c.hdr...)
		if st, body := privDo(t, p, "POST", "/api/v1/bookings", "", c.ctype, c.body, hdr...); st != c.want {
			t.Fatalf("booking: %d, want %d: %s", st, c.want, body)
		}
	}
	// the idempotent replay
	if st, _ := privDo(t, p, "POST", "/api/v1/bookings", "", "application/json", bookingJSON(ann, dedupMessage),
		"Idempotency-Key", idemKey, "User-Agent", ann.ua); st != 201 {
		t.Fatalf("replay: %d", st)
	}
	// the web form and the console sign-in carry the same kinds of data
	privDo(t, p, "POST", "/", "", "application/x-www-form-urlencoded", url.Values{"first_name": {cy.first}, "last_name": {cy.last},
		"email": {cy.email}, "organization_name": {"Probe"}, "message": {cy.message}}.Encode(), "User-Agent", cy.ua)
	privDo(t, p, "POST", "/console/sign-in", "", "application/x-www-form-urlencoded", url.Values{"token": {admin}}.Encode())
	privDo(t, p, "POST", "/console/sign-in", "", "application/x-www-form-urlencoded", url.Values{"token": {bogus}}.Encode())

	// the first confirmation fails at SMTP and is retried
	smtp.WaitFor(t, 2, 20*time.Second)
	if !strings.Contains(p.Logs.String(), "email delivery failed") {
		t.Fatalf("the failed delivery was not logged:\n%s", p.Logs)
	}

	st, _ := store.Open(context.Background(), db, store.Options{})
	defer st.Close()
	leadID := func(email string) string {
		var id string
		if err := st.DB().QueryRow(`SELECT id FROM leads WHERE email_normalized = $1`, strings.ToLower(email)).Scan(&id); err != nil {
			t.Fatalf("lead of %s: %v", email, err)
		}
		return id
	}
	annID, boID := leadID(ann.email), leadID(bo.email)

	// staff: search (the address in a query string), reads, edits, a note, a refused edit,
	// a bad token
	for _, path := range []string{"/api/v1/leads?q=" + url.QueryEscape(ann.email), "/api/v1/leads?q=" + ann.last,
		"/api/v1/leads/" + annID, "/api/v1/leads/" + annID + "/bookings", "/api/v1/leads/" + annID + "/events",
		"/api/v1/leads.csv?q=" + url.QueryEscape(bo.first)} {
		if st, body := privDo(t, p, "GET", path, sales, "", ""); st != 200 {
			t.Errorf("GET %s: %d %s", path, st, body)
		}
	}
	if st, body := privDo(t, p, "PATCH", "/api/v1/leads/"+annID, sales, "application/merge-patch+json",
		`{"phone": "`+newPhone+`", "status": "contacted"}`); st != 200 {
		t.Errorf("patch: %d %s", st, body)
	}
	if st, body := privDo(t, p, "PATCH", "/api/v1/leads/"+annID, sales, "application/merge-patch+json",
		`{"email": "`+bo.email+`"}`); st != 409 {
		t.Errorf("patch onto another lead's email: %d %s", st, body)
	}
	if st, body := privDo(t, p, "PATCH", "/api/v1/leads/"+annID, sales, "application/merge-patch+json",
		`{"first_name": "<b>`+ann.first+`</b>", "email": "`+ann.first+`"}`); st != 422 {
		t.Errorf("invalid patch: %d %s", st, body)
	}
	if st, body := privDo(t, p, "POST", "/api/v1/leads/"+annID+"/notes", sales, "application/json", `{"text": "`+note+`"}`); st != 200 && st != 201 {
		t.Errorf("note: %d %s", st, body)
	}
	if st, _ := privDo(t, p, "GET", "/api/v1/leads/"+annID, bogus, "", ""); st != 401 {
		t.Errorf("bogus token: %d", st)
	}

	// admin: export, a refused erasure by a sales token, erasure by email and by id
	if st, body := privDo(t, p, "GET", "/api/v1/leads/"+annID+"/export", admin, "", ""); st != 200 {
		t.Errorf("export: %d %s", st, body)
	}
	if st, _ := privDo(t, p, "POST", "/api/v1/erasure-requests", sales, "application/json", `{"email": "`+ann.email+`"}`); st != 403 {
		t.Errorf("sales erasure: %d", st)
	}
	if st, body := privDo(t, p, "POST", "/api/v1/erasure-requests", admin, "application/json", `{"email": "`+ann.email+`"}`); st != 200 || !strings.Contains(body, `"anonymized":1`) {
		t.Errorf("erasure request: %d %s", st, body)
	}
	if st, body := privDo(t, p, "POST", "/api/v1/erasure-requests", admin, "application/json", `{"email": "`+cy.first+` at home"}`); st != 422 {
		t.Errorf("invalid erasure request: %d %s", st, body)
	}
	if st, body := privDo(t, p, "POST", "/api/v1/leads/"+boID+"/anonymize", admin, "", ""); st != 200 {
		t.Errorf("anonymize: %d %s", st, body)
	}
	if st, _ := privDo(t, p, "POST", "/api/v1/leads/"+annID+"/notes", sales, "application/json", `{"text": "`+note+`"}`); st != 409 {
		t.Errorf("note after erasure: %d", st)
	}
	if hooks.Load() > 0 {
		// let the retried webhook go out, so its logs are part of what is checked
		deadline := time.Now().Add(10 * time.Second)
		for hooks.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}

	p.Stop(t)
	logs := p.Logs.String() + cliLogs.String()
	if !strings.Contains(logs, `"route":"POST /api/v1/erasure-requests"`) || !strings.Contains(logs, `"route":"PATCH /api/v1/leads/{id}"`) {
		t.Fatalf("request lines are missing, the capture is broken:\n%s", logs)
	}
	var leaks []string
	for _, x := range []person{ann, bo, cy} {
		for _, v := range []string{x.first, x.last, x.email, strings.ToLower(x.email), x.phone, x.phoneE164, x.role, x.message, x.ua} {
			if strings.Contains(strings.ToLower(logs), strings.ToLower(v)) {
				leaks = append(leaks, v)
			}
		}
	}
	for _, v := range []string{dedupMessage, note, newPhone, "+4791888456", idemKey, admin, sales, bogus,
		"Thistlewick", "Bramblequay", "Sprocketmoor", "Quokka", "privacy-probe.example"} {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(v)) {
			leaks = append(leaks, v)
		}
	}
	if len(leaks) > 0 {
		t.Errorf("the logs carry personal data or secrets: %q\n%s", leaks, logs)
	}
}
