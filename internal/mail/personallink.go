package mail

import (
	"embed"
	"errors"
	"strings"

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
	cat   *i18n.Catalog
	parts parts
}

// NewPersonalLinkRenderer parses the embedded templates.
func NewPersonalLinkRenderer(shared *i18n.Catalog) (*PersonalLinkRenderer, error) {
	cat, err := catalogOr(shared)
	if err != nil {
		return nil, err
	}
	p, err := parseParts(cat, personalLinkFS, "templates/personal_link.txt", "templates/personal_link.html")
	if err != nil {
		return nil, err
	}
	return &PersonalLinkRenderer{cat: cat, parts: p}, nil
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
	text, html, err := r.parts.execute(l, data)
	if err != nil {
		return Message{}, err
	}
	return Message{To: strings.TrimSpace(p.To), Subject: r.cat.T(l, "mail.link.subject"), Text: text, HTML: html}, nil
}
