// Package mail renders the booking confirmation email and delivers it over
// SMTP, or to the log when no SMTP server is configured.
package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"unicode"
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
}

// Message is a rendered email, ready for a Sender.
type Message struct {
	To, Subject, Text, HTML string
}

// Renderer renders confirmation emails from templates parsed once.
// It is safe for concurrent use.
type Renderer struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewRenderer parses the embedded templates.
func NewRenderer() (*Renderer, error) {
	text, err := texttemplate.ParseFS(templateFS, "templates/confirmation.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: parse text template: %w", err)
	}
	html, err := htmltemplate.ParseFS(templateFS, "templates/confirmation.html")
	if err != nil {
		return nil, fmt.Errorf("mail: parse html template: %w", err)
	}
	return &Renderer{text: text, html: html}, nil
}

// Render is a convenience for one-off use; it parses the templates on every
// call, so long-running code should keep a Renderer.
func Render(c Confirmation) (Message, error) {
	r, err := NewRenderer()
	if err != nil {
		return Message{}, err
	}
	return r.Render(c)
}

// Render builds the text and HTML parts of the confirmation. Only the fields
// of c are used: the prospect's free-text message is deliberately never part of
// the email, so our mail server cannot carry a stranger's text to anyone.
func (r *Renderer) Render(c Confirmation) (Message, error) {
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
	data := Confirmation{
		FirstName:  strings.TrimSpace(c.FirstName),
		BookingRef: strings.TrimSpace(c.BookingRef),
		PrivacyURL: strings.TrimSpace(c.PrivacyURL),
	}

	var text, html bytes.Buffer
	if err := r.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: render text part: %w", err)
	}
	// html/template escapes the name and ref and refuses unsafe URL schemes.
	if err := r.html.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: render html part: %w", err)
	}
	return Message{
		To:      strings.TrimSpace(c.To),
		Subject: "Your Meander demo booking (ref " + shortRef(data.BookingRef) + ")",
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
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
