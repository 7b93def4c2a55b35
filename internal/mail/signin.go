package mail

import (
	"embed"
	"errors"
	"strings"

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
	p, err := parseParts(cat, signinFS, "templates/signin/link.txt", "templates/signin/link.html")
	if err != nil {
		return Message{}, err
	}
	data := struct {
		SignInLink
		Lang string
	}{SignInLink{Name: strings.TrimSpace(d.Name), URL: d.URL, Minutes: d.Minutes}, string(l)}
	text, html, err := p.execute(l, data)
	if err != nil {
		return Message{}, err
	}
	return Message{To: strings.TrimSpace(d.To), Subject: cat.T(l, "mail.signin.subject"), Text: text, HTML: html}, nil
}
