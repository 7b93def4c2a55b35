// Package mail renders the booking confirmation email and delivers it over
// SMTP, or to the log when no SMTP server is configured.
package mail

import (
	"embed"
	"errors"
	"net/url"
	"strings"
	"unicode"

	"github.com/norsedigital/leads/internal/i18n"
)

// templateFS holds the message templates; embedding keeps the binary self-contained.
//
//go:embed templates/confirmation.txt templates/confirmation.html
var templateFS embed.FS

// Confirmation is the data of one booking confirmation email.
type Confirmation struct {
	To         string // recipient address
	FirstName  string // greeting
	BookingRef string // booking id (uuid)
	PrivacyURL string // link to the privacy notice
	// SelfServiceURL is the prospect's own page (SPEC §14), a fresh personal link minted
	// for this email; "" leaves the paragraph out.
	SelfServiceURL string
}

// Message is a rendered email, ready for a Sender.
type Message struct {
	To, Subject, Text, HTML string
	// Calendar, when set, is an iCalendar object sent as one more alternative,
	// text/calendar with its method (RFC 6047), which calendar clients act on.
	Calendar *CalendarPart
	// Attachments follow the body (a calendar invitation's invite.ics).
	Attachments []Attachment
}

// CalendarPart is an iCalendar object and its METHOD (REQUEST, CANCEL).
type CalendarPart struct {
	Method string
	Data   string
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Renderer renders confirmation emails from templates parsed once per language; every
// text comes from the i18n catalog. It is safe for concurrent use.
type Renderer struct {
	cat   *i18n.Catalog
	parts parts
}

// NewRenderer parses the embedded templates.
func NewRenderer(shared *i18n.Catalog) (*Renderer, error) {
	cat, err := catalogOr(shared)
	if err != nil {
		return nil, err
	}
	p, err := parseParts(cat, templateFS, "templates/confirmation.txt", "templates/confirmation.html")
	if err != nil {
		return nil, err
	}
	return &Renderer{cat: cat, parts: p}, nil
}

// Render is a convenience for one-off use; it parses the templates on every
// call, so long-running code should keep a Renderer.
func Render(l i18n.Lang, c Confirmation) (Message, error) {
	r, err := NewRenderer(nil)
	if err != nil {
		return Message{}, err
	}
	return r.Render(l, c)
}

// Render builds the text and HTML parts of the confirmation in language l (the
// prospect's; nb for anything else). Only the fields of c are used: the prospect's
// free-text message is deliberately never part of the email, so our mail server cannot
// carry a stranger's text to anyone. The privacy link opens the notice in l.
func (r *Renderer) Render(l i18n.Lang, c Confirmation) (Message, error) {
	if l != i18n.EN {
		l = i18n.NB
	}
	// Errors name the field, never its value: they may end up in logs.
	switch {
	case strings.TrimSpace(c.To) == "":
		return Message{}, errors.New("mail: confirmation without recipient")
	case strings.ContainsAny(c.To, "\r\n"):
		return Message{}, errors.New("mail: recipient contains a line break")
	case strings.TrimSpace(c.BookingRef) == "":
		return Message{}, errors.New("mail: confirmation without booking reference")
	case strings.TrimSpace(c.PrivacyURL) == "":
		return Message{}, errors.New("mail: confirmation without privacy notice link")
	}
	data := struct {
		Confirmation
		Lang string
	}{Confirmation{
		FirstName:      strings.TrimSpace(c.FirstName),
		BookingRef:     strings.TrimSpace(c.BookingRef),
		PrivacyURL:     withLang(strings.TrimSpace(c.PrivacyURL), l),
		SelfServiceURL: strings.TrimSpace(c.SelfServiceURL),
	}, string(l)}

	text, html, err := r.parts.execute(l, data)
	if err != nil {
		return Message{}, err
	}
	return Message{
		To:      strings.TrimSpace(c.To),
		Subject: r.cat.T(l, "mail.confirmation.subject", shortRef(data.BookingRef)),
		Text:    text,
		HTML:    html,
	}, nil
}

// withLang adds lang=l to a link's query, so that the page opens in the email's language.
func withLang(link string, l i18n.Lang) string {
	u, err := url.Parse(link)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return link // not ours to rewrite; html/template still vets it
	}
	q := u.Query()
	q.Set("lang", string(l))
	u.RawQuery = q.Encode()
	return u.String()
}

// shortRef returns the first 8 characters of the reference with control
// characters removed, so that nothing placed in the Subject header can end the
// header line and inject another one (the caller validates too; this is the
// last line of defence).
func shortRef(ref string) string {
	clean := []rune(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, ref))
	return string(clean[:min(8, len(clean))])
}
