package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Sender delivers a rendered message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// smtpTimeout bounds dialling and every single SMTP command, so a hanging
// server cannot stall a delivery worker.
const smtpTimeout = 10 * time.Second

// SMTPSender delivers messages over SMTP, one connection per message: simple,
// and nothing stale to recover after the server restarts. Safe for concurrent use.
type SMTPSender struct {
	host        string
	port        int
	implicitTLS bool // smtps://; otherwise STARTTLS when the server offers it
	user, pass  string
	from        string
}

// NewSMTPSender configures delivery from an URL: smtp://[user:pass@]host[:port]
// uses STARTTLS when the server offers it (default port 587), smtps:// uses
// implicit TLS (default port 465). from is the From header, e.g.
// "Meander <no-reply@meander.invalid>".
func NewSMTPSender(rawURL, from string) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included; keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("mail: invalid SMTP URL: %v", err)
	}
	s := &SMTPSender{host: u.Hostname(), from: from}
	switch u.Scheme {
	case "smtp":
		s.port = gomail.DefaultPortTLS
	case "smtps":
		s.port, s.implicitTLS = gomail.DefaultPortSSL, true
	default:
		return nil, fmt.Errorf("mail: SMTP URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("mail: SMTP URL without host")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("mail: invalid SMTP port %q", p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("mail: invalid sender address %q: %w", from, err)
	}
	return s, nil
}

// Send delivers m. It returns once the server has accepted the message, or
// with an error that never contains the recipient, the body or the server's
// reply text (which often echoes the recipient), so it can be logged as is.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return errors.New("mail: invalid sender address")
	}
	if err := msg.To(m.To); err != nil {
		return errors.New("mail: invalid recipient address")
	}
	msg.Subject(m.Subject)
	// Tells auto-responders (out-of-office etc.) not to answer.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	if c := m.Calendar; c != nil {
		if strings.ContainsAny(c.Method, "\r\n;\" ") {
			return errors.New("mail: invalid calendar method")
		}
		msg.AddAlternativeString(gomail.ContentType("text/calendar; method="+c.Method), c.Data)
	}
	for _, a := range m.Attachments {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return errors.New("mail: attachment could not be added")
		}
	}

	var raw net.Conn // the TCP connection, once dialled
	var stopWatch func() bool
	defer func() {
		if raw != nil {
			stopWatch()
			_ = raw.Close() // go-mail leaves it open when the greeting, STARTTLS or AUTH fail
		}
	}()
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(smtpTimeout),
		gomail.WithTLSConfig(s.tlsConfig()),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		gomail.WithDialContextFunc(func(dctx context.Context, _, _ string) (net.Conn, error) {
			conn, tcp, err := s.dial(dctx)
			if err != nil {
				return nil, err
			}
			// go-mail watches ctx only while dialling; closing the socket when
			// ctx ends makes a cancelled Send return now, not after the timeouts.
			raw, stopWatch = tcp, context.AfterFunc(ctx, func() { _ = tcp.Close() })
			return conn, nil
		}),
	}
	if s.implicitTLS {
		opts = append(opts, gomail.WithSSL()) // our dialer does the TLS; this only skips STARTTLS
	}
	if s.user != "" {
		// go-mail refuses these over an unencrypted connection unless the server is on localhost.
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}

	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// Nothing personal has been sent yet: the error names at most the server.
		if ctx.Err() != nil {
			return fmt.Errorf("mail: smtp connect: %w", ctx.Err())
		}
		return fmt.Errorf("mail: smtp connect: %w", err)
	}
	sendErr := client.SendWithSMTPClient(conn, msg)
	// A failing QUIT after the server accepted the message must not cause a
	// second delivery, so the close error is ignored.
	_ = client.CloseWithSMTPClient(conn)
	if sendErr == nil || msg.IsDelivered() {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("mail: smtp send: %w", ctx.Err())
	}
	return sanitize(sendErr)
}

// dial connects to the server, doing the TLS handshake itself for smtps. It
// ignores go-mail's "host:port", which is malformed for IPv6 literals. It
// returns the connection to talk over and the TCP connection beneath it.
func (s *SMTPSender) dial(ctx context.Context) (conn, tcp net.Conn, err error) {
	d := net.Dialer{Timeout: smtpTimeout}
	tcp, err = d.DialContext(ctx, "tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	if err != nil || !s.implicitTLS {
		return tcp, tcp, err
	}
	tc := tls.Client(tcp, s.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = tcp.Close()
		return nil, nil, err
	}
	return tc, tcp, nil
}

func (s *SMTPSender) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// SMTPError is a delivery failure reported during the SMTP transaction,
// reduced to what is safe to log: the server's reply text and the recipient
// list of go-mail's error are dropped.
type SMTPError struct {
	Stage        string // which step failed, e.g. "sending SMTP DATA command"
	Code         int    // SMTP reply code, 0 when the failure was not a reply (e.g. a broken connection)
	EnhancedCode string // e.g. "4.3.0", when the server supports enhanced status codes
	Temporary    bool   // a 4xx reply
}

func (e *SMTPError) Error() string {
	var b strings.Builder
	b.WriteString("mail: smtp: " + e.Stage)
	if e.Code != 0 {
		fmt.Fprintf(&b, ": reply %d", e.Code)
	}
	if e.EnhancedCode != "" {
		b.WriteString(" " + e.EnhancedCode)
	}
	if e.Temporary {
		b.WriteString(" (temporary)")
	}
	return b.String()
}

func sanitize(err error) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return errors.New("mail: smtp: sending failed")
	}
	return &SMTPError{
		Stage:        se.Reason.String(),
		Code:         se.ErrorCode(),
		EnhancedCode: se.EnhancedStatusCode(),
		Temporary:    se.IsTemp(),
	}
}

// LogSender writes a masked summary of each message to the log instead of
// sending it, so the service works without any SMTP setup.
type LogSender struct {
	log *slog.Logger
}

// NewLogSender returns a Sender that logs to l.
func NewLogSender(l *slog.Logger) *LogSender {
	return &LogSender{log: l}
}

// Send logs the masked recipient, the masked subject and the size of the text part;
// never the address, the name or the body.
func (s *LogSender) Send(ctx context.Context, m Message) error {
	s.log.InfoContext(ctx, "email sent (log mailer)",
		slog.String("to", MaskEmail(m.To)),
		slog.String("subject", MaskSubject(m.Subject)),
		slog.Int("text_len", len(m.Text)),
		slog.Bool("calendar", m.Calendar != nil),
		slog.Int("attachments", len(m.Attachments)),
	)
	return nil
}

// MaskSubject keeps a subject up to its first ": ": what follows is what the email is
// about ("New lead: <organization>"), which a prospect typed and may be a person's name.
func MaskSubject(subject string) string {
	if i := strings.Index(subject, ": "); i >= 0 {
		return subject[:i+2] + "…"
	}
	return subject
}

// MaskEmail hides an address but keeps enough to recognise it while
// debugging: "jane@example.com" becomes "j***@e***.com".
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "***"
	}
	local, domain := addr[:at], addr[at+1:]
	tld := ""
	if dot := strings.LastIndexByte(domain, '.'); dot >= 0 {
		domain, tld = domain[:dot], domain[dot:]
	}
	return firstRune(local) + "***@" + firstRune(domain) + "***" + tld
}

func firstRune(s string) string {
	if s == "" {
		return ""
	}
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}
