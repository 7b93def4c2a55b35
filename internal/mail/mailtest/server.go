// Package mailtest runs a real SMTP server on the loopback interface for
// tests, with controls to simulate outages and temporary failures.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message accepted by the server.
type Received struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	Data     []byte   // the message as sent after DATA
	Username string   // the AUTH PLAIN user, empty without AUTH
}

// Server is an SMTP server listening on 127.0.0.1. It accepts any
// sender, recipient and AUTH PLAIN credentials, without TLS.
type Server struct {
	addr string // fixed at Start, so Restart listens on the same port

	mu       sync.Mutex
	smtp     *smtp.Server // nil while stopped
	listener net.Listener
	served   chan struct{}
	messages []Received
	failNext int
	hold     chan struct{} // non-nil: answering DATA waits until it is closed
}

// Start listens on a free port of 127.0.0.1 and stops the server when the
// test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{addr: l.Addr().String()}
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// URL is the server's address for mail.NewSMTPSender.
func (s *Server) URL() string { return "smtp://" + s.addr }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	// Connections cut by Stop are expected; their errors are noise.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	s.mu.Lock()
	s.smtp, s.listener, s.served = srv, l, served
	s.mu.Unlock()
}

// Stop closes the listener and all open connections, so that new connections
// are refused. Received messages are kept. Stopping twice is harmless.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l, served := s.smtp, s.listener, s.served
	s.smtp = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	// Close the listener ourselves: go-smtp only knows it once Serve has
	// started, which may not have happened yet.
	_ = l.Close()
	_ = srv.Close()
	<-served
}

// Restart listens again on the same port, keeping the received messages.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	var l net.Listener
	var err error
	// The port was ours a moment ago, but the kernel may need a moment to release it.
	for range 50 {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("mailtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(l)
}

// FailNext makes the next n DATA commands fail with a temporary 451 reply.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// HoldReplies makes the server keep each message it receives but wait before answering
// DATA, until release is called: the instant in which the message is accepted and the
// client does not know it yet. release may be called more than once.
func (s *Server) HoldReplies() (release func()) {
	hold := make(chan struct{})
	s.mu.Lock()
	s.hold = hold
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hold == hold {
				s.hold = nil
			}
			s.mu.Unlock()
			close(hold)
		})
	}
}

// Messages returns a copy of the messages received so far, in arrival order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.messages))
	for i, m := range s.messages {
		out[i] = Received{
			From:     m.From,
			To:       append([]string(nil), m.To...),
			Data:     bytes.Clone(m.Data),
			Username: m.Username,
		}
	}
	return out
}

// WaitFor waits until at least n messages have arrived and returns them, or
// fails the test after timeout. Call it from the test's goroutine.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailtest: got %d messages within %v, want at least %d", len(msgs), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// session collects one SMTP transaction.
type session struct {
	srv  *Server
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, _ string) error {
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.srv
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		s.mu.Unlock()
		return &smtp.SMTPError{
			Code:         451,
			EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message:      "mailtest: temporary failure",
		}
	}
	s.messages = append(s.messages, Received{From: ss.from, To: ss.to, Data: data, Username: ss.user})
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// Header returns the decoded value of the named header, "" when absent.
func (r Received) Header(name string) string {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	v := m.Header.Get(name)
	if dec, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return dec
	}
	return v
}

// TextBody returns the decoded text/plain part, "" when there is none.
func (r Received) TextBody() string { return r.body("text/plain") }

// HTMLBody returns the decoded text/html part, "" when there is none.
func (r Received) HTMLBody() string { return r.body("text/html") }

// Part returns the first decoded part of mediaType (e.g. text/calendar, application/ics),
// "" when there is none.
func (r Received) Part(mediaType string) string { return r.body(mediaType) }

func (r Received) body(mediaType string) string {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	b, err := findPart(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, mediaType)
	if err != nil {
		return ""
	}
	return string(b)
}

// findPart searches an entity, descending into multipart ones, for the first
// part of the wanted media type and returns its decoded body.
func findPart(contentType, encoding string, body io.Reader, want string) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "text/plain", nil // RFC 2045 default
	}
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: decode the transfer encoding below, the same way for all parts.
			p, err := mr.NextRawPart()
			if err != nil {
				return nil, err // io.EOF: not found
			}
			b, err := findPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, want)
			if err == nil {
				return b, nil
			}
		}
	}
	if mt != want {
		return nil, fmt.Errorf("mailtest: %s is not %s", mt, want)
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks itself
	case "", "7bit", "8bit", "binary":
	default:
		return nil, errors.New("mailtest: unknown transfer encoding " + encoding)
	}
	return io.ReadAll(body)
}
