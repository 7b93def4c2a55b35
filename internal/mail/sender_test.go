package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/mail/mailtest"
)

const testFrom = "Meander <no-reply@meander.invalid>"

func testMessage(t *testing.T, to, firstName string) Message {
	t.Helper()
	m, err := Render(i18n.EN, Confirmation{To: to, FirstName: firstName, BookingRef: testRef, PrivacyURL: testPrivacy})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTestSender(t *testing.T, rawURL string) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(rawURL, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSenderDelivers(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, srv.URL())
	if err := s.Send(t.Context(), testMessage(t, "zoe@example.com", `Zoë <b>&</b>`)); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]

	if got.From != "no-reply@meander.invalid" {
		t.Errorf("envelope from = %q", got.From)
	}
	if len(got.To) != 1 || got.To[0] != "zoe@example.com" {
		t.Errorf("envelope to = %q", got.To)
	}
	for name, want := range map[string]string{
		"From":           `"Meander" <no-reply@meander.invalid>`,
		"To":             "<zoe@example.com>",
		"Subject":        "Your Meander demo booking (ref 0b9f6a3e)",
		"Auto-Submitted": "auto-generated",
	} {
		if h := got.Header(name); !strings.Contains(h, want) {
			t.Errorf("header %s = %q, want it to contain %q", name, h, want)
		}
	}
	if ct := got.Header("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type = %q", ct)
	}
	if text := got.TextBody(); !strings.Contains(text, "Hello Zoë <b>&</b>,") || !strings.Contains(text, testRef) {
		t.Errorf("text part:\n%s", text)
	}
	if html := got.HTMLBody(); !strings.Contains(html, "Hello Zoë &lt;b&gt;&amp;&lt;/b&gt;,") || !strings.Contains(html, testRef) {
		t.Errorf("html part:\n%s", html)
	}
}

func TestSMTPSenderAuth(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, strings.Replace(srv.URL(), "smtp://", "smtp://mailer:s3cret@", 1))
	if err := s.Send(t.Context(), testMessage(t, "a@example.com", "A")); err != nil {
		t.Fatal(err)
	}
	if u := srv.WaitFor(t, 1, 5*time.Second)[0].Username; u != "mailer" {
		t.Errorf("AUTH user = %q, want mailer", u)
	}
}

func TestSMTPSenderServerDownThenBack(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, srv.URL())
	msg := testMessage(t, "jane@example.com", "Jane")

	srv.Stop()
	start := time.Now()
	err := s.Send(t.Context(), msg)
	if err == nil {
		t.Fatal("Send succeeded while the server is down")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v to fail", d)
	}
	if strings.Contains(err.Error(), "jane@example.com") {
		t.Errorf("error contains the recipient: %v", err)
	}

	srv.Restart(t)
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	srv.WaitFor(t, 1, 5*time.Second)
}

func TestSMTPSenderMessagesSurviveRestart(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, srv.URL())
	if err := s.Send(t.Context(), testMessage(t, "a@example.com", "A")); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	if err := s.Send(t.Context(), testMessage(t, "b@example.com", "B")); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitFor(t, 2, 5*time.Second); got[0].To[0] != "a@example.com" || got[1].To[0] != "b@example.com" {
		t.Errorf("messages: %+v", got)
	}
}

func TestSMTPSenderTemporaryFailure(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, srv.URL())
	msg := testMessage(t, "jane.doe@example.com", "Jane")

	srv.FailNext(1)
	err := s.Send(t.Context(), msg)
	if err == nil {
		t.Fatal("Send succeeded despite a 451")
	}
	for _, secret := range []string{"jane.doe@example.com", "jane.doe", "Jane", "mailtest: temporary failure"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
	var se *SMTPError
	if !errors.As(err, &se) || se.Code != 451 || !se.Temporary {
		t.Errorf("error = %#v, want an SMTPError with code 451, temporary", err)
	}
	if len(srv.Messages()) != 0 {
		t.Error("the failed message was stored")
	}

	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatalf("retry: %v", err)
	}
	srv.WaitFor(t, 1, 5*time.Second)
}

func TestSMTPSenderInvalidRecipient(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, srv.URL())
	err := s.Send(t.Context(), Message{To: "not an address <x", Subject: "s", Text: "t", HTML: "h"})
	if err == nil || strings.Contains(err.Error(), "not an address") {
		t.Errorf("error = %v", err)
	}
}

// A server that accepts connections but never answers must not hold Send
// longer than its context.
func TestSMTPSenderHonoursContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()

	s := newTestSender(t, "smtp://"+l.Addr().String())
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, testMessage(t, "a@example.com", "A"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v", d)
	}
}

// smtps:// must speak TLS from the first byte, so a plain server fails it.
func TestSMTPSenderImplicitTLSAgainstPlainServer(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, "smtps://"+srv.Addr())
	if err := s.Send(t.Context(), testMessage(t, "a@example.com", "A")); err == nil {
		t.Fatal("smtps:// delivered over a plaintext connection")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages received", n)
	}
}

func TestSMTPSenderConcurrent(t *testing.T) {
	srv := mailtest.Start(t)
	s := newTestSender(t, srv.URL())
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			errs <- s.Send(t.Context(), testMessage(t, fmt.Sprintf("p%d@example.com", i), "P"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	srv.WaitFor(t, 10, 5*time.Second)
}

func TestNewSMTPSender(t *testing.T) {
	tests := []struct {
		url        string
		host       string
		port       int
		tls        bool
		user, pass string
	}{
		{"smtp://mail.example.com", "mail.example.com", 587, false, "", ""},
		{"smtp://127.0.0.1:1025", "127.0.0.1", 1025, false, "", ""},
		{"smtps://mail.example.com", "mail.example.com", 465, true, "", ""},
		{"smtps://u%40x:p%3Ass@mail.example.com:2465", "mail.example.com", 2465, true, "u@x", "p:ss"},
		{"smtp://user:pass@mail.example.com:25", "mail.example.com", 25, false, "user", "pass"},
		{"smtp://[::1]:2525", "::1", 2525, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s := newTestSender(t, tt.url)
			if s.host != tt.host || s.port != tt.port || s.implicitTLS != tt.tls || s.user != tt.user || s.pass != tt.pass {
				t.Errorf("got %+v", *s)
			}
		})
	}
}

func TestNewSMTPSenderRejects(t *testing.T) {
	tests := []struct{ url, from string }{
		{"", testFrom},
		{"http://mail.example.com", testFrom},
		{"mail.example.com:25", testFrom},
		{"smtp://", testFrom},
		{"smtp://mail.example.com:0", testFrom},
		{"smtp://mail.example.com:70000", testFrom},
		{"smtp://user:topsecret@mail.example.com:abc", testFrom},
		{"smtp://user:topsecret@mail.example.com:25\n", testFrom},
		{"smtp://mail.example.com", "no address"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := NewSMTPSender(tt.url, tt.from)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))
	msg := testMessage(t, "johanna@example.com", "Johanna")
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, leak := range []string{"johanna@example.com", "Johanna", "johanna", testRef} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q: %s", leak, out)
		}
	}
	var line struct {
		Msg     string `json:"msg"`
		To      string `json:"to"`
		Subject string `json:"subject"`
		TextLen int    `json:"text_len"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, out)
	}
	if line.Msg != "email sent (log mailer)" || line.To != "j***@e***.com" || line.Subject != msg.Subject || line.TextLen != len(msg.Text) {
		t.Errorf("log line = %+v", line)
	}
}

// The log mailer does not log what a subject is about: an owner email's names the
// prospect's organization, which may be a person's name.
func TestLogSenderMasksTheSubject(t *testing.T) {
	var buf bytes.Buffer
	s := NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := s.Send(t.Context(), Message{To: "owner@norse.example", Subject: "New lead: Kari Nordmann ENK", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "Kari") || !strings.Contains(out, `"subject":"New lead: …"`) {
		t.Errorf("log line: %s", out)
	}
}

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jane@example.com", "j***@e***.com"},
		{"j@e.com", "j***@e***.com"},
		{"first.last@mail.example.co.uk", "f***@m***.uk"},
		{"Ørjan@bücher.de", "Ø***@b***.de"},
		{"user@localhost", "u***@l***"},
		{"@example.com", "***@e***.com"},
		{"user@", "u***@***"},
		{"no-at-sign", "***"},
		{"", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskEmail(tt.in); got != tt.want {
				t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
