package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// The prospect's demo on their own page (SPEC §14 "Move or cancel my demo"): the store's
// ScheduleDemo (DemoSchedule.ByLead: the scheduled demo only, its host, an offered slot) and
// CancelDemo do it, by data_subject, with the invitations, cancellations and reminders they
// queue when staff do it.

// myDemo is the demo part of the page: when and with whom, and the host's free slots.
type myDemo struct {
	When, Host string
	Days       []slotDay
	Error      string // a refused move, beside the field
}

// loadMyDemo reads the lead's scheduled demo (nil: none) and the times it may move to. A
// failure to read the slots leaves the move form out rather than failing the page.
func (p *Pages) loadMyDemo(r *http.Request, l lead.Lead) (*myDemo, error) {
	ctx, tr := r.Context(), p.tr(r)
	d, err := p.cfg.Store.LeadDemo(ctx, l.ID)
	if err != nil || d == nil {
		return nil, err
	}
	host, err := p.cfg.Store.GetMember(ctx, d.HostID)
	if err != nil {
		return nil, err
	}
	out := &myDemo{When: i18n.DateTime(tr.L, p.cfg.Location, d.StartsAt), Host: host.Name}
	if p.cfg.Demos != nil {
		slots, err := p.cfg.Store.HostSlots(ctx, *p.cfg.Demos, d.HostID, l.ID)
		if err != nil {
			p.cfg.Logger.Error("demo slots of the host", "error", err.Error())
		}
		out.Days = p.slotDays(tr, slots, nil)
		// a closed list shows only the option: the whole date, not the clock alone
		for _, day := range out.Days {
			for i, o := range day.Slots {
				at, _ := time.Parse(time.RFC3339, o.Value)
				day.Slots[i].Label = i18n.DateTime(tr.L, p.cfg.Location, at)
			}
		}
	}
	return out, nil
}

// MyMoveDemo is POST /my/{token}/demo: starts_at, one of the host's offered slots.
func (p *Pages) MyMoveDemo(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	at, err := time.Parse(time.RFC3339, r.PostForm.Get("starts_at"))
	switch {
	case err != nil || p.cfg.Demos == nil:
		err = lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "starts_at", Rule: lead.RuleDemoTimeNotAvailable, Message: "Choose a time."}}})
	default:
		_, err = p.cfg.Store.ScheduleDemo(r.Context(), l.ID, store.DemoSchedule{StartsAt: at, ByLead: true}, *p.cfg.Demos, lead.DataSubjectActor)
	}
	if err != nil {
		p.myDemoFailed(w, r, l, err)
		return
	}
	p.myDone(w, r, "demo_moved")
}

// MyCancelDemo is POST /my/{token}/demo/cancel. The lead's status stays, as when staff cancel.
func (p *Pages) MyCancelDemo(w http.ResponseWriter, r *http.Request) {
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	if _, err := p.cfg.Store.CancelDemo(r.Context(), l.ID, lead.DataSubjectActor); err != nil {
		p.myDemoFailed(w, r, l, err)
		return
	}
	p.myDone(w, r, "demo_cancelled")
}

// myDone lands on the link's page with a flash (POST-redirect-GET).
func (p *Pages) myDone(w http.ResponseWriter, r *http.Request, done string) {
	http.Redirect(w, r, "/my/"+r.PathValue("token")+"?"+url.Values{"done": {done}, "lang": {string(langOf(r))}}.Encode(), http.StatusSeeOther)
}

// myDemoFailed shows a refused move or cancel on the page, nothing changed: a taken slot
// (409) or a time not offered (422) beside the field; a demo that is no longer scheduled
// (cancelled by sales meanwhile, or the lead moved on) as a 409 banner; an erasure meanwhile
// as the 410 page.
func (p *Pages) myDemoFailed(w http.ResponseWriter, r *http.Request, l lead.Lead, err error) {
	var de *lead.Error
	switch {
	case !errors.As(err, &de):
		p.internalError(w, r, err)
		return
	case de == lead.ErrNotFound: // the lead itself (the store's "no scheduled demo" is its own error)
		p.myGone(w, r, http.StatusNotFound)
		return
	}
	tr := p.tr(r)
	status, field, banner := http.StatusConflict, "", ""
	switch {
	case de.Rule == lead.RuleDemoSlotTaken:
		field = tr.T("my.demo_taken")
	case de.Code == lead.CodeInvalid && len(de.Issues) > 0 && de.Issues[0].Rule == lead.RuleDemoTimeNotAvailable:
		status, field = http.StatusUnprocessableEntity, tr.T("my.demo_time")
	case de.Code == lead.CodeInvalid || de.Code == lead.CodeNotFound:
		banner = tr.T("my.demo_gone")
	case de.Code == lead.CodeConflict:
		p.myGone(w, r, http.StatusGone) // erased meanwhile
		return
	default:
		p.internalError(w, r, err)
		return
	}
	d, err := p.newMyData(r, l, nil)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	if field != "" && d.Demo != nil {
		d.Demo.Error = field
		banner = tr.T("my.demo_not_moved")
	}
	d.Banner = banner
	d.Title = tr.T("error.prefix", d.Title)
	p.render(w, r, status, "public_my", d)
}
