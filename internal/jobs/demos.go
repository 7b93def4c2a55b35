package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// DemoEmails composes the demo emails (SPEC §13) at send time from the demo as it is then:
// an invitation to a demo that was cancelled since, or a reminder of one that ended, is
// skipped. Register Composers in the EmailWorker.
type DemoEmails struct {
	Store    *store.Store
	Renderer *mail.InvitationRenderer
	Location *time.Location // --timezone
	// PublicURL is the base of the console link in the host's emails.
	PublicURL string
	// PersonalLink, when set, is the address of the prospect's own link (§14) minted with
	// the claim of a lead's email (PersonalLinks.URL).
	PersonalLink func(j store.EmailJob) string
	Now          func() time.Time
}

// Composers are the email kinds DemoEmails writes.
func (d *DemoEmails) Composers() map[string]Composer {
	return map[string]Composer{
		store.EmailDemoInvitation:   d.compose(mail.DemoInvitation),
		store.EmailDemoCancellation: d.compose(mail.DemoCancellation),
		store.EmailDemoReminder:     d.compose(mail.DemoReminder),
	}
}

func (d *DemoEmails) compose(kind string) Composer {
	return func(ctx context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error) {
		m, err := d.Store.DemoEmail(ctx, j.ID)
		if errors.Is(err, lead.ErrNotFound) {
			return mail.Message{}, ErrSkipEmail
		}
		if err != nil {
			return mail.Message{}, err
		}
		now := time.Now()
		if d.Now != nil {
			now = d.Now()
		}
		scheduled := m.Demo.Status == lead.DemoScheduled
		switch {
		case kind == mail.DemoInvitation && !scheduled, kind == mail.DemoReminder && (!scheduled || !m.Demo.StartsAt.After(now)):
			return mail.Message{}, ErrSkipEmail
		}
		forHost := j.StaffID != ""
		e := mail.DemoEmail{Kind: kind, To: j.To, Name: j.FirstName, ForHost: forHost, UID: m.Demo.ID + "@leads.meander",
			Sequence: m.Demo.Sequence, Start: m.Demo.StartsAt, End: m.Demo.EndsAt, Location: d.Location,
			HostName: m.HostName, HostEmail: m.HostEmail, LeadName: m.LeadFirstName + " " + m.LeadLastName, LeadEmail: m.LeadEmail,
			Organization: m.OrganizationName, Stamp: now.UTC()}
		if forHost {
			if !m.LeadErased {
				e.ConsoleLink = d.PublicURL + "/console/leads/" + m.LeadID
			}
		} else if d.PersonalLink != nil && !m.LeadErased {
			e.PersonalLink = d.PersonalLink(j)
		}
		return d.Renderer.Render(lang, e)
	}
}
