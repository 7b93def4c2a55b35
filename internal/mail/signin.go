package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/norsedigital/leads/internal/i18n"
)

//go:embed templates/signin
var signinFS embed.FS

// SignInLink is the data of a sign-in link email to a member of the team (SPEC §11).
type SignInLink struct {
	To      string
	Name    string // the member's name, for the greeting
	URL     string // the link, with its single-use token
	Minutes int    // how long the link works
}

// RenderSignInLink writes the sign-in link email in l. It holds a secret: the caller sends
// it and forgets it; errors name fields, never values.
func RenderSignInLink(cat *i18n.Catalog, l i18n.Lang, d SignInLink) (Message, error) {
	if l != i18n.EN {
		l = i18n.NB
	}
	switch {
	case strings.TrimSpace(d.To) == "":
		return Message{}, errors.New("mail: sign-in link without recipient")
	case strings.ContainsAny(d.To, "\r\n"):
		return Message{}, errors.New("mail: recipient contains a line break")
	case !strings.HasPrefix(d.URL, "http://") && !strings.HasPrefix(d.URL, "https://"):
		return Message{}, errors.New("mail: sign-in link without an http(s) URL")
	}
	tr := cat.For(l)
	t := func(key string, args ...any) string { return tr.T(key, args...) }
	text, err := texttemplate.New("link.txt").Funcs(texttemplate.FuncMap{"t": t}).ParseFS(signinFS, "templates/signin/link.txt")
	if err != nil {
		return Message{}, fmt.Errorf("mail: parse sign-in text template: %w", err)
	}
	html, err := htmltemplate.New("link.html").Funcs(htmltemplate.FuncMap{"t": t}).ParseFS(signinFS, "templates/signin/link.html")
	if err != nil {
		return Message{}, fmt.Errorf("mail: parse sign-in html template: %w", err)
	}
	data := struct {
		SignInLink
		Lang string
	}{SignInLink{Name: strings.TrimSpace(d.Name), URL: d.URL, Minutes: d.Minutes}, string(l)}
	var tb, hb bytes.Buffer
	if err := text.Execute(&tb, data); err != nil {
		return Message{}, fmt.Errorf("mail: render sign-in text part: %w", err)
	}
	if err := html.Execute(&hb, data); err != nil {
		return Message{}, fmt.Errorf("mail: render sign-in html part: %w", err)
	}
	return Message{To: strings.TrimSpace(d.To), Subject: tr.T("mail.signin.subject"), Text: tb.String(), HTML: hb.String()}, nil
}
