package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
)

type leadData struct {
	chrome
	Lead lead.Lead
	// Forward is the next pipeline step; Exits are lost and disqualified. Together they
	// are lead.NextStatuses: only allowed moves get a button.
	Forward   []lead.Status
	Exits     []lead.Status
	Bookings  []lead.BookingRecord
	Events    []eventView
	NoteText  string
	NoteError string
	Flash     string
	Banner    string
	IsAdmin   bool
	// DemoPanel is the demo section (demos.go).
	DemoPanel *demoPanel
	Team      teamView // the owner, "Take it" and "Assign to" (owners.go)
}

type eventView struct {
	lead.Event
	Summary string
}

// LeadPage is GET /console/leads/{id}: every field, the bookings, the history, the
// allowed status moves and the note form.
func (p *Pages) LeadPage(w http.ResponseWriter, r *http.Request) {
	d, ok := p.loadLead(w, r)
	if !ok {
		return
	}
	tr := p.tr(r)
	switch r.URL.Query().Get("done") {
	case "status":
		d.Flash = tr.T("lead.flash_status", statusLabel(tr, d.Lead.Status))
	case "note":
		d.Flash = tr.T("lead.flash_note")
	case "anonymized":
		d.Flash = tr.T("lead.flash_anonymized")
	case "demo":
		d.Flash = tr.T("demo.flash_demo")
	case "demo_cancelled":
		d.Flash = tr.T("demo.flash_demo_cancelled")
	case "owner":
		d.Flash = tr.T("owner.flash", d.Team.OwnerName(d.Lead.OwnerID))
	}
	p.render(w, r, http.StatusOK, "console_lead", d)
}

// ChangeStatus is POST /console/leads/{id}/status: one of the offered moves. The store
// checks the transition again, so a stale page cannot make a forbidden move.
func (p *Pages) ChangeStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := p.cfg.Store.PatchLead(r.Context(), id, lead.Input{Status: lead.Val(r.PostForm.Get("status"))}, nil, sessionOf(r).Token.Actor())
	if err != nil {
		p.leadActionFailed(w, r, err, func(d *leadData, de *lead.Error) {
			d.Banner = p.tr(r).T("lead.status_failed", p.issueText(r, de))
		})
		return
	}
	http.Redirect(w, r, "/console/leads/"+id+"?done=status", http.StatusSeeOther)
}

// AddNote is POST /console/leads/{id}/notes.
func (p *Pages) AddNote(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	text := r.PostForm.Get("text")
	_, err := p.cfg.Store.AppendNote(r.Context(), id, text, sessionOf(r).Token.Actor())
	if err != nil {
		p.leadActionFailed(w, r, err, func(d *leadData, de *lead.Error) {
			d.NoteText = text
			if de.Code == lead.CodeInvalid {
				d.NoteError = p.issueText(r, de)
			} else {
				d.Banner = p.tr(r).T("lead.note_failed", de.Message)
			}
		})
		return
	}
	http.Redirect(w, r, "/console/leads/"+id+"?done=note#notes", http.StatusSeeOther)
}

// leadActionFailed re-renders the lead page after a refused action: 422 for a rule, 409
// for an erased lead; anything else is an error page.
func (p *Pages) leadActionFailed(w http.ResponseWriter, r *http.Request, err error, show func(*leadData, *lead.Error)) {
	var de *lead.Error
	if !errors.As(err, &de) || (de.Code != lead.CodeInvalid && de.Code != lead.CodeConflict) {
		p.leadError(w, r, err)
		return
	}
	d, ok := p.loadLead(w, r)
	if !ok {
		return
	}
	show(&d, de)
	d.Title = p.tr(r).T("error.prefix", d.Title)
	status := http.StatusUnprocessableEntity
	if de.Code == lead.CodeConflict {
		status = http.StatusConflict
	}
	p.render(w, r, status, "console_lead", d)
}

// loadLead reads everything the lead page shows; on failure it has answered.
func (p *Pages) loadLead(w http.ResponseWriter, r *http.Request) (leadData, bool) {
	ctx, id := r.Context(), r.PathValue("id")
	sess := sessionOf(r)
	l, err := p.cfg.Store.GetLead(ctx, id)
	if err != nil {
		p.leadError(w, r, err)
		return leadData{}, false
	}
	bookings, err := p.cfg.Store.ListBookings(ctx, id)
	if err != nil {
		p.leadError(w, r, err)
		return leadData{}, false
	}
	events, err := p.cfg.Store.ListEvents(ctx, id)
	if err != nil {
		p.leadError(w, r, err)
		return leadData{}, false
	}
	team, err := p.team(ctx, sess)
	if err != nil {
		p.leadError(w, r, err)
		return leadData{}, false
	}
	c := p.base(r, l.FirstName+" "+l.LastName)
	c.Nav = "leads"
	d := leadData{chrome: c,
		Lead: l, Bookings: bookings, IsAdmin: sess.Token.Role == lead.RoleAdmin, Team: team}
	if l.AnonymizedAt == nil {
		for _, s := range lead.NextStatuses(l.Status) {
			if s == lead.StatusLost || s == lead.StatusDisqualified {
				d.Exits = append(d.Exits, s)
			} else {
				d.Forward = append(d.Forward, s)
			}
		}
	}
	if d.DemoPanel, err = p.loadDemoPanel(r, l, bookings); err != nil {
		p.leadError(w, r, err)
		return leadData{}, false
	}
	// newest first: what just happened is what people look for
	for _, e := range slices.Backward(events) {
		v := eventView{Event: e, Summary: eventSummary(p.tr(r), e)}
		if e.Type == lead.EventOwnerAssigned {
			v.Summary = ownerEventSummary(p.tr(r), e, team)
		}
		d.Events = append(d.Events, v)
	}
	return d, true
}

func (p *Pages) leadError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, lead.ErrNotFound) {
		tr := p.tr(r)
		p.errorPage(w, r, http.StatusNotFound, tr.T("errors.lead_not_found"), tr.T("errors.lead_not_found_text"))
		return
	}
	p.internalError(w, r, err)
}

// issueText joins the messages of a refused action for a banner or a field.
func (p *Pages) issueText(r *http.Request, de *lead.Error) string {
	if len(de.Issues) == 0 {
		return de.Message
	}
	msgs := make([]string, len(de.Issues))
	for i, is := range de.Issues {
		msgs[i] = p.cat.Issue(langOf(r), is)
	}
	return strings.Join(msgs, " ")
}

// eventSummary says in words what an audit event recorded. Details hold no personal
// data, only field names, statuses, ids and counts.
func eventSummary(tr i18n.Printer, e lead.Event) string {
	var det map[string]any
	_ = json.Unmarshal(e.Details, &det)
	str := func(k string) string { s, _ := det[k].(string); return s }
	switch e.Type {
	case lead.EventCreated:
		if src := str("source"); src != "" {
			return tr.T("event.created_source", sourceLabel(tr, lead.Source(src)))
		}
		return tr.T("event.created")
	case lead.EventBookingLinked:
		return tr.T("event.booking_linked")
	case lead.EventStatusChanged:
		return tr.T("event.status_changed", statusLabel(tr, lead.Status(str("from"))), statusLabel(tr, lead.Status(str("to"))))
	case lead.EventUpdated:
		var fields []string
		if list, ok := det["fields"].([]any); ok {
			for _, f := range list {
				if s, ok := f.(string); ok {
					fields = append(fields, strings.ReplaceAll(s, "_", " "))
				}
			}
		}
		return tr.T("event.updated", strings.Join(fields, ", "))
	case lead.EventNoteAdded:
		return tr.T("event.note_added")
	case lead.EventAnonymized:
		return tr.T("event.anonymized")
	case lead.EventExported:
		return tr.T("event.exported")
	case lead.EventDemoScheduled, lead.EventDemoRescheduled, lead.EventDemoCancelled, lead.EventDemoNoShow:
		return tr.T(demoEventKeys[e.Type])
	case lead.EventOwnerAssigned:
		if str(lead.FieldOwnerID) == "" {
			return tr.T("event.owner_cleared")
		}
		return tr.T("event.owner_assigned", label(tr, "owner.reason.", str("reason")))
	}
	keys := make([]string, 0, len(det))
	for k := range det {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %v", k, det[k])
	}
	s := humanize(e.Type)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}
