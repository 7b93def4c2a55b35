package jobs

import (
	"context"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// OwnerEmails writes the emails to a lead's owner (SPEC §11) from the lead as it is when
// the job is claimed: one whose lead has another owner by then, or (the reminder) was
// contacted, moved on or is not yet due, is skipped. Register Composers on the worker.
type OwnerEmails struct {
	Store     *store.Store
	Renderer  *mail.OwnerRenderer
	PublicURL string         // the console's links: <PublicURL>/console/leads/<id>
	Location  *time.Location // of the times shown: the reminder's due time, the preferred times (--timezone)
	Now       func() time.Time
}

// Composers are the worker's composers of the three kinds.
func (o *OwnerEmails) Composers() map[string]Composer {
	return map[string]Composer{
		store.EmailOwnerNewLead:     o.compose(mail.NoticeNewLead),
		store.EmailOwnerBookedAgain: o.compose(mail.NoticeBookedAgain),
		store.EmailOwnerOverdue:     o.compose(mail.NoticeOverdue),
	}
}

func (o *OwnerEmails) compose(kind string) Composer {
	return func(ctx context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error) {
		l, err := o.Store.GetLead(ctx, j.LeadID)
		if err != nil {
			return mail.Message{}, err
		}
		if l.AnonymizedAt != nil || l.OwnerID == nil || *l.OwnerID != j.StaffID {
			return mail.Message{}, ErrSkipEmail
		}
		n := mail.OwnerNotice{Kind: kind, To: j.To, MemberName: j.FirstName, FirstName: l.FirstName, LastName: l.LastName,
			Organization: l.OrganizationName, Role: deref(l.RoleTitle), Size: deref(l.OrganizationSize),
			Source: string(l.Source), Campaign: deref(l.UTMCampaign),
			LeadURL: o.PublicURL + "/console/leads/" + l.ID}
		loc := o.Location
		if loc == nil {
			loc = time.UTC
		}
		if kind == mail.NoticeOverdue {
			now := time.Now
			if o.Now != nil {
				now = o.Now
			}
			if l.Status != lead.StatusNew || l.FirstContactedAt != nil || l.ContactDueAt == nil || l.ContactDueAt.After(now()) {
				return mail.Message{}, ErrSkipEmail
			}
			n.Due = i18n.DateTime(lang, loc, *l.ContactDueAt)
		} else {
			times, err := o.preferredTimes(ctx, l.ID, j.BookingID)
			if err != nil {
				return mail.Message{}, err
			}
			for _, t := range times {
				n.PreferredTimes = append(n.PreferredTimes, i18n.DateTime(lang, loc, t))
			}
		}
		return o.Renderer.Render(lang, n)
	}
}

// preferredTimes are the demo times the booking preferred (SPEC §13): the job's booking
// (booked again), else the lead's latest (a new lead's job names none); none without one.
func (o *OwnerEmails) preferredTimes(ctx context.Context, leadID, bookingID string) ([]time.Time, error) {
	bookings, err := o.Store.ListBookings(ctx, leadID)
	if err != nil || len(bookings) == 0 {
		return nil, err
	}
	for _, b := range bookings {
		if b.ID == bookingID {
			return b.PreferredTimes, nil
		}
	}
	return bookings[0].PreferredTimes, nil // newest first
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
