package mail

import (
	"embed"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/norsedigital/leads/internal/i18n"
)

//go:embed templates/owner.txt templates/owner.html
var ownerFS embed.FS

// Kinds of OwnerNotice (SPEC §11): what the email tells the lead's owner.
const (
	NoticeNewLead     = "new_lead"     // they were given the lead
	NoticeBookedAgain = "booked_again" // their lead booked again
	NoticeOverdue     = "overdue"      // their lead waits past its contact due time
)

// OwnerNotice is an email to the member who owns a lead. It carries what the owner needs to
// recognize the lead and a link to it, never the prospect's message or the notes: our mail
// server does not carry a stranger's text to anyone.
type OwnerNotice struct {
	Kind       string // Notice*
	To         string // the member's address
	MemberName string // greeting
	// the lead: name, organization, role, size, source (its value: the email shows its label)
	// and campaign; "" when absent
	FirstName, LastName, Organization, Role, Size, Source, Campaign string
	LeadURL                                                         string // <public-url>/console/leads/<id>
	Due                                                             string // when contact was due (overdue), for people
	// PreferredTimes are the booking's preferred demo times (§13), for people in the member's
	// language and time zone; none: the email has no such line
	PreferredTimes []string
}

// OwnerRenderer renders OwnerNotices in both languages; every text is the catalog's.
type OwnerRenderer struct {
	cat   *i18n.Catalog
	parts parts
}

// NewOwnerRenderer parses the embedded templates.
func NewOwnerRenderer(shared *i18n.Catalog) (*OwnerRenderer, error) {
	cat, err := catalogOr(shared)
	if err != nil {
		return nil, err
	}
	p, err := parseParts(cat, ownerFS, "templates/owner.txt", "templates/owner.html")
	if err != nil {
		return nil, err
	}
	return &OwnerRenderer{cat: cat, parts: p}, nil
}

// Render writes n in l (the member's language; nb for anything else). The subject names
// the organization, stripped of control characters so that it cannot end the header line;
// the HTML part escapes every value (html/template).
func (r *OwnerRenderer) Render(l i18n.Lang, n OwnerNotice) (Message, error) {
	if l != i18n.EN {
		l = i18n.NB
	}
	switch {
	case strings.TrimSpace(n.To) == "":
		return Message{}, errors.New("mail: owner notice without recipient")
	case strings.ContainsAny(n.To, "\r\n"):
		return Message{}, errors.New("mail: recipient contains a line break")
	case strings.TrimSpace(n.LeadURL) == "":
		return Message{}, errors.New("mail: owner notice without a link to the lead")
	}
	var subject string
	org := oneLine(n.Organization)
	switch n.Kind {
	case NoticeNewLead:
		subject = r.cat.T(l, "mail.owner.subject_new", org)
	case NoticeBookedAgain:
		subject = r.cat.T(l, "mail.owner.subject_again", org)
	case NoticeOverdue:
		subject = r.cat.T(l, "mail.owner.subject_overdue", org)
	default:
		return Message{}, fmt.Errorf("mail: unknown owner notice %q", n.Kind)
	}
	if key := "source." + n.Source; r.cat.Has(key) {
		n.Source = r.cat.T(l, key)
	}
	data := struct {
		OwnerNotice
		Lang, Name string
	}{n, string(l), strings.TrimSpace(n.FirstName + " " + n.LastName)}
	text, html, err := r.parts.execute(l, data)
	if err != nil {
		return Message{}, err
	}
	return Message{To: strings.TrimSpace(n.To), Subject: subject, Text: text, HTML: html}, nil
}

// oneLine is s without control characters: a header value cannot be ended by it.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
}
