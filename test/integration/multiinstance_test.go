package integration

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// Three `leads serve` processes share one PostgreSQL database: the per-IP rate limit, the
// one-email-per-lead rule and the one-instance-at-a-time IP retention hold across them
// exactly (SPEC §1, §3.5, §3.6, §3.8).
func TestSeveralInstancesShareOnePostgres(t *testing.T) {
	db := storetest.PostgresURL(t)
	smtp := mailtest.Start(t)
	leadsBinary(t)

	// The IP-retention job does its first round 10 s after start, in one instance at a time
	// (a PostgreSQL advisory lock). The test holds that lock through the first rounds of
	// instances 0 and 1, which must skip, and lets go before instance 2, started 3 s
	// later, does its round, which must clear the address of a booking made 2 hours ago.
	args := []string{"--database", db, "--smtp", smtp.URL(), "--mail-retry", "200ms", "--ip-retention", "1h",
		"--admin-addr", "127.0.0.1:0"} // /metrics there: on the public address it needs an admin token
	old := storetest.MustOpen(t, db, store.Options{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	oldIn := lead.BookingInput{FirstName: "Olav", LastName: "Old", Email: "old@example.org", OrganizationName: "Old Org",
		ConsentGiven: new(true)}
	if _, err := (&intake.Service{Store: old, ConsentVersion: "test", SpamPolicy: spam.PolicyOff}).Book(t.Context(), oldIn, intake.Meta{IP: "192.0.2.99"}); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	lockConn, err := admin.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lockConn.Close()
	if _, err := lockConn.ExecContext(t.Context(), `SELECT pg_advisory_lock($1)`, store.RetentionLockKey); err != nil {
		t.Fatal(err)
	}

	// two started together: one migrates, the other waits for its lock
	procs := make([]*proc, 3)
	errs := make([]error, 3)
	fire(2, func(i int) answer {
		procs[i], errs[i] = startLeads(t, args...)
		return answer{}
	})
	firstUp := time.Now()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * time.Second) // staggers the third instance's retention round
	procs[2] = mustStart(t, args...)
	thirdUp := time.Now()
	sqlDB := openDB(t, db)

	// 60 simultaneous valid bookings from one client IP (the TCP peer 127.0.0.1), spread
	// over the three instances: exactly 5 accepted in total.
	local := clientFrom("127.0.0.1")
	answers := fire(60, func(i int) answer {
		return post(local, procs[i%3].URL, booking(fmt.Sprintf("limit%d@example.org", i)))
	})
	counts := statusCounts(answers)
	if counts[201] != 5 || counts[429] != 55 || len(counts) != 2 {
		t.Fatalf("statuses %v, want exactly 5×201 and 55×429; others:\n%s", counts, others(answers, 201, 429))
	}
	for _, a := range answers {
		if a.Status == 429 && a.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %s", a.Body)
		}
	}
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM bookings WHERE ip_address = '127.0.0.1'`); n != 5 {
		t.Fatalf("%d bookings stored for 127.0.0.1, want 5", n)
	}

	// 30 simultaneous bookings of one person (in varying case), from 30 different loopback
	// addresses over the three instances: one lead, 30 bookings, one email job.
	email := "Same.Person@example.org"
	answers = fire(30, func(i int) answer {
		e := email
		if i%2 == 1 {
			e = strings.ToLower(email)
		}
		return post(clientFrom(fmt.Sprintf("127.0.1.%d", i+1)), procs[i%3].URL, booking(e))
	})
	if counts := statusCounts(answers); counts[201] != 30 {
		t.Fatalf("statuses %v, want 30×201; others:\n%s", counts, others(answers, 201))
	}
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM leads WHERE email_normalized = 'same.person@example.org'`); n != 1 {
		t.Fatalf("%d leads for one email, want 1", n)
	}
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM bookings b JOIN leads l ON l.id = b.lead_id
		WHERE l.email_normalized = 'same.person@example.org'`); n != 30 {
		t.Fatalf("%d bookings on the lead, want 30", n)
	}
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs j JOIN leads l ON l.id = j.lead_id
		WHERE l.email_normalized = 'same.person@example.org'`); n != 1 {
		t.Fatalf("%d email jobs for the lead, want 1", n)
	}

	// Three workers poll the queue; each of the 7 jobs is delivered once.
	waitUntil(t, 30*time.Second, "every email job done", func() bool {
		return queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs WHERE status <> 'done'`) == 0
	})
	// A job is marked done only after the SMTP server accepted its message, so any second
	// delivery would already be here; a short bounded wait covers a straggler anyway.
	time.Sleep(500 * time.Millisecond)
	perRecipient := map[string]int{}
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			perRecipient[strings.ToLower(to)]++
		}
	}
	if perRecipient["same.person@example.org"] != 1 {
		t.Errorf("the person got %d confirmation emails, want 1", perRecipient["same.person@example.org"])
	}
	// 5 + 1 new leads over HTTP, and the old booking's
	if len(smtp.Messages()) != 7 || len(perRecipient) != 7 {
		t.Errorf("%d messages to %d recipients, want 7 to 7: %v", len(smtp.Messages()), len(perRecipient), perRecipient)
	}

	// Each instance counts its own; together they add up.
	sum := map[string]float64{}
	for _, p := range procs {
		m := metricsOf(t, p.AdminURL)
		for _, k := range []string{`leads_bookings_total{outcome="accepted"}`, `leads_bookings_total{outcome="deduplicated"}`,
			`leads_bookings_total{outcome="rate_limited"}`, `leads_email_deliveries_total{outcome="sent"}`} {
			sum[k] += m[k]
		}
		if m[`leads_http_requests_total{route="POST /api/v1/bookings",status="201"}`] == 0 {
			t.Errorf("instance %s answered no booking", p.URL)
		}
	}
	want := map[string]float64{`leads_bookings_total{outcome="accepted"}`: 6, `leads_bookings_total{outcome="deduplicated"}`: 29,
		`leads_bookings_total{outcome="rate_limited"}`: 55, `leads_email_deliveries_total{outcome="sent"}`: 7}
	for k, v := range want {
		if sum[k] != v {
			t.Errorf("sum of %s over the instances = %v, want %v", k, sum[k], v)
		}
	}

	// retention: the first two rounds skipped while the lock was held elsewhere ...
	time.Sleep(time.Until(firstUp.Add(11 * time.Second)))
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM bookings WHERE ip_address IS NULL`); n != 0 {
		t.Fatalf("%d booking addresses cleared while another instance held the retention lock", n)
	}
	if _, err := lockConn.ExecContext(t.Context(), `SELECT pg_advisory_unlock($1)`, store.RetentionLockKey); err != nil {
		t.Fatal(err)
	}
	// ... and the third instance's round, once the lock was free, cleared every address
	waitUntil(t, time.Until(thirdUp.Add(20*time.Second)), "the third instance's retention round", func() bool {
		return len(procs[2].Lines("ip retention: addresses cleared")) > 0
	})
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM bookings WHERE ip_address IS NULL`); n != 1 {
		t.Errorf("%d booking addresses cleared, want the old one only", n)
	}
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM leads WHERE ip_address IS NULL AND email = 'old@example.org'`); n != 1 {
		t.Errorf("the old lead's address was not cleared")
	}
	line := procs[2].Lines("ip retention: addresses cleared")[0]
	if line["leads"] != float64(1) || line["bookings"] != float64(1) {
		t.Errorf("retention round cleared %v leads and %v bookings, want 1 and 1", line["leads"], line["bookings"])
	}
	for _, p := range procs[:2] {
		if n := len(p.Lines("ip retention: addresses cleared")); n != 0 {
			t.Errorf("instance %s ran a retention round while the lock was held", p.URL)
		}
	}

	for _, p := range procs {
		p.Stop(t)
	}
	checkIntegrity(t, sqlDB)
}
