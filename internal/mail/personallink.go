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

//go:embed templates/personal_link.txt templates/personal_link.html
var personalLinkFS embed.FS

// PersonalLink is the data of the email that answers a request for a fresh link to the
// prospect's own page (SPEC §14).
type PersonalLink struct {
	To         string
	FirstName  string
	URL        string // the fresh personal link
	PrivacyURL string
}

// PersonalLinkRenderer renders PersonalLink emails from templates parsed once per
// language. It is safe for concurrent use.
type PersonalLinkRenderer struct {
	cat  *i18n.Catalog
	text map[i18n.Lang]*texttemplate.Template
	html map[i18n.Lang]*htmltemplate.Template
}

// NewPersonalLinkRenderer parses the embedded templates.
func NewPersonalLinkRenderer() (*PersonalLinkRenderer, error) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		return nil, err
	}
	r := &PersonalLinkRenderer{cat: cat, text: map[i18n.Lang]*texttemplate.Template{}, html: map[i18n.Lang]*htmltemplate.Template{}}
	for _, l := range i18n.Langs {
		tr := cat.For(l)
		t := func(key string, args ...any) string { return tr.T(key, args...) }
		text, err := texttemplate.New("personal_link.txt").Funcs(texttemplate.FuncMap{"t": t}).ParseFS(personalLinkFS, "templates/personal_link.txt")
		if err != nil {
			return nil, fmt.Errorf("mail: parse text template: %w", err)
		}
		html, err := htmltemplate.New("personal_link.html").Funcs(htmltemplate.FuncMap{"t": t}).ParseFS(personalLinkFS, "templates/personal_link.html")
		if err != nil {
			return nil, fmt.Errorf("mail: parse html template: %w", err)
		}
		r.text[l], r.html[l] = text, html
	}
	return r, nil
}

// Render builds the email in language l (nb for anything else).
func (r *PersonalLinkRenderer) Render(l i18n.Lang, p PersonalLink) (Message, error) {
	if l != i18n.EN {
		l = i18n.NB
	}
	// errors name the field, never its value (the link is a secret)
	switch {
	case strings.TrimSpace(p.To) == "":
		return Message{}, errors.New("mail: personal link email without recipient")
	case strings.ContainsAny(p.To, "\r\n"):
		return Message{}, errors.New("mail: recipient contains a line break")
	case strings.TrimSpace(p.URL) == "":
		return Message{}, errors.New("mail: personal link email without link")
	case strings.TrimSpace(p.PrivacyURL) == "":
		return Message{}, errors.New("mail: personal link email without privacy notice link")
	}
	data := struct {
		PersonalLink
		Lang string
	}{PersonalLink{FirstName: strings.TrimSpace(p.FirstName), URL: strings.TrimSpace(p.URL),
		PrivacyURL: withLang(strings.TrimSpace(p.PrivacyURL), l)}, string(l)}
	var text, html bytes.Buffer
	if err := r.text[l].Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: render text part: %w", err)
	}
	if err := r.html[l].Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: render html part: %w", err)
	}
	return Message{To: strings.TrimSpace(p.To), Subject: r.cat.T(l, "mail.link.subject"), Text: text.String(), HTML: html.String()}, nil
}
