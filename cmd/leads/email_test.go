package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func bookingJSON(first, email string) string {
	return fmt.Sprintf(`{"first_name": %q, "last_name": "Tester", "email": %q, "organization_name": "Mentor Org",
		"message": "please do not echo this", "consent_given": true}`, first, email)
}

// TestConfirmationEmail runs the real program against a real SMTP server over TCP, on both
// engines: the message arrives with the recipient, name and booking reference; with the
// server down the booking still answers 201, and the email arrives once it is back, once.
func TestConfirmationEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		smtp := mailtest.Start(t)
		p := startProgram(t, nil, "--database", e.URL(t), "--smtp", smtp.URL(), "--mail-retry", "100ms",
			"--public-url", "https://leads.example")

		status, body := p.post(t, "/api/v1/bookings", bookingJSON("Ingrid", "ingrid@example.org"))
		if status != 201 {
			t.Fatalf("booking: %d %s", status, body)
		}
		ref := between(body, `"booking_id":"`, `"`)
		msgs := smtp.WaitFor(t, 1, 10*time.Second)
		m := msgs[0]
		if len(m.To) != 1 || m.To[0] != "ingrid@example.org" {
			t.Fatalf("recipient %v", m.To)
		}
		text, html := m.TextBody(), m.HTMLBody()
		for _, part := range []string{text, html} {
			if !strings.Contains(part, "Ingrid") || !strings.Contains(part, ref) || !strings.Contains(part, "https://leads.example/privacy") {
				t.Fatalf("part lacks name, reference or privacy link:\n%s", part)
			}
			if strings.Contains(part, "please do not echo this") {
				t.Fatal("the prospect's message was echoed")
			}
		}

		// SMTP down: bookings still succeed; the email goes out when it is back, once
		smtp.Stop()
		status, body = p.post(t, "/api/v1/bookings", bookingJSON("Odd", "odd@example.org"))
		if status != 201 {
			t.Fatalf("booking with SMTP down: %d %s", status, body)
		}
		time.Sleep(300 * time.Millisecond) // let the worker fail a few attempts
		smtp.Restart(t)
		msgs = smtp.WaitFor(t, 2, 15*time.Second)
		time.Sleep(500 * time.Millisecond) // a duplicate would arrive within a retry or two
		msgs = smtp.Messages()
		if len(msgs) != 2 || msgs[1].To[0] != "odd@example.org" {
			t.Fatalf("messages after recovery: %d", len(msgs))
		}

		// a re-booking within 24 hours sends nothing new; a temporary SMTP failure is retried
		status, _ = p.post(t, "/api/v1/bookings", bookingJSON("Odd", "ODD@example.org"))
		smtp.FailNext(2)
		status2, _ := p.post(t, "/api/v1/bookings", bookingJSON("Third", "third@example.org"))
		if status != 201 || status2 != 201 {
			t.Fatalf("bookings: %d %d", status, status2)
		}
		msgs = smtp.WaitFor(t, 3, 15*time.Second)
		time.Sleep(500 * time.Millisecond)
		if msgs = smtp.Messages(); len(msgs) != 3 || msgs[2].To[0] != "third@example.org" {
			t.Fatalf("want exactly 3 messages, got %d", len(msgs))
		}
	})
}

func TestServeOnFreshSQLiteWithLogMailer(t *testing.T) {
	dir := t.TempDir()
	p := startProgram(t, nil, "--database", "sqlite:"+filepath.Join(dir, "leads.db"))
	status, body := p.post(t, "/api/v1/bookings", bookingJSON("Liv", "liv@example.org"))
	if status != 201 {
		t.Fatalf("booking: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Logs.String(), "log mailer") {
		if time.Now().After(deadline) {
			t.Fatalf("log mailer never wrote the email:\n%s", p.Logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs := p.Logs.String()
	if strings.Contains(logs, "liv@example.org") || strings.Contains(logs, "Liv") {
		t.Fatalf("personal data in logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"route":"POST /api/v1/bookings"`) {
		t.Fatalf("no request log line:\n%s", logs)
	}
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
