package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// Demo scheduling in the pages (SPEC §13): the preferred times on the booking form, the
// demo panel of the lead page, and the demos to close.

// slotDay is one day of offered slots, as the booking form and the schedule control show it.
type slotDay struct {
	Label string
	Open  bool // a slot of it is ticked (the form came back with an error)
	Slots []slotOption
}

type slotOption struct {
	ID, Value, Label string
	Checked          bool
}

// dayLabel is a day as people say it: "tirsdag 8. desember" / "Tuesday 8 December".
func dayLabel(tr i18n.Printer, loc *time.Location, t time.Time) string {
	t = t.In(loc)
	return tr.T("demo.day", tr.T(weekdayKeys[t.Weekday()]), t.Day(), tr.T(monthKeys[t.Month()-1]))
}

var (
	weekdayKeys = [...]string{"weekday.0", "weekday.1", "weekday.2", "weekday.3", "weekday.4", "weekday.5", "weekday.6"}
	monthKeys   = [...]string{"month.1", "month.2", "month.3", "month.4", "month.5", "month.6", "month.7", "month.8",
		"month.9", "month.10", "month.11", "month.12"}
	// demoEventKeys are the history's words for the demo events.
	demoEventKeys = map[string]string{lead.EventDemoScheduled: "event.demo_scheduled", lead.EventDemoRescheduled: "event.demo_rescheduled",
		lead.EventDemoCancelled: "event.demo_cancelled", lead.EventDemoNoShow: "event.demo_no_show"}
)

// slotDays groups slots by local day; chosen are ticked.
func (p *Pages) slotDays(tr i18n.Printer, slots []time.Time, chosen []string) []slotDay {
	var days []slotDay
	lastDay := ""
	for _, s := range slots {
		label := dayLabel(tr, p.cfg.Location, s)
		if label != lastDay {
			days = append(days, slotDay{Label: label})
			lastDay = label
		}
		v := s.UTC().Format(time.RFC3339)
		o := slotOption{ID: s.UTC().Format("20060102T1504"), Value: v, Label: i18n.Clock(tr.L, p.cfg.Location, s)}
		o.Checked = slices.Contains(chosen, v)
		d := &days[len(days)-1]
		d.Open = d.Open || o.Checked
		d.Slots = append(d.Slots, o)
	}
	return days
}

// offered are the slots offered now, none when demos are not configured. A failure to read
// them leaves the form without them rather than failing the page.
func (p *Pages) offered(ctx context.Context) []time.Time {
	if p.cfg.Demos == nil {
		return nil
	}
	slots, err := p.cfg.Store.OfferedSlots(ctx, *p.cfg.Demos)
	if err != nil {
		p.cfg.Logger.Error("demo slots", "error", err.Error())
		return nil
	}
	return slots
}

// demoPanel is the lead page's demo section.
type demoPanel struct {
	Demo      *lead.Demo
	HostName  string
	CanPlan   bool // the lead is qualified or demo_scheduled, and not erased
	Preferred []slotOption
	Days      []slotDay
	Hosts     []hostOption
	Error     string
}

type hostOption struct {
	ID, Name string
	Selected bool
}

// loadDemoPanel reads the lead's demo, and what the schedule control offers: the prospect's
// preferred times still ahead, every offered slot, the active members as hosts.
func (p *Pages) loadDemoPanel(r *http.Request, l lead.Lead, bookings []lead.BookingRecord) (*demoPanel, error) {
	ctx, tr := r.Context(), p.tr(r)
	d := &demoPanel{}
	var err error
	if d.Demo, err = p.cfg.Store.LeadDemo(ctx, l.ID); err != nil {
		return nil, err
	}
	members, err := p.cfg.Store.ListMembers(ctx)
	if err != nil {
		return nil, err
	}
	host := sessionOf(r).Token.StaffID
	if l.OwnerID != nil {
		host = *l.OwnerID
	}
	if d.Demo != nil {
		host = d.Demo.HostID
	}
	for _, m := range members {
		if d.Demo != nil && m.ID == d.Demo.HostID {
			d.HostName = m.Name
		}
		if m.Active {
			d.Hosts = append(d.Hosts, hostOption{ID: m.ID, Name: m.Name, Selected: m.ID == host})
		}
	}
	d.CanPlan = l.AnonymizedAt == nil && p.cfg.Demos != nil &&
		(l.Status == lead.StatusQualified || l.Status == lead.StatusDemoScheduled)
	if !d.CanPlan {
		return d, nil
	}
	now := p.cfg.Now()
	seen := map[string]bool{}
	for _, b := range bookings {
		for _, t := range b.PreferredTimes {
			v := t.UTC().Format(time.RFC3339)
			if t.After(now) && !seen[v] {
				seen[v] = true
				d.Preferred = append(d.Preferred, slotOption{Value: v, Label: i18n.DateTime(tr.L, p.cfg.Location, t)})
			}
		}
	}
	slices.SortFunc(d.Preferred, func(a, b slotOption) int { return compareStrings(a.Value, b.Value) })
	d.Days = p.slotDays(tr, p.offered(ctx), nil)
	return d, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ScheduleDemo is POST /console/leads/{id}/demo: starts_at (an offered slot or a preferred
// time) and host_id; the store checks it all again.
func (p *Pages) ScheduleDemo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	at, err := time.Parse(time.RFC3339, r.PostForm.Get("starts_at"))
	if err == nil {
		if p.cfg.Demos == nil {
			err = lead.Errorf(lead.CodeInvalid, "demo scheduling is not configured")
		} else {
			_, err = p.cfg.Store.ScheduleDemo(r.Context(), id, store.DemoSchedule{StartsAt: at, HostID: r.PostForm.Get("host_id")},
				*p.cfg.Demos, sessionOf(r).Token.Actor())
		}
	} else {
		err = lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "starts_at", Rule: lead.RuleDemoTimeNotAvailable, Message: "Choose a time."}}})
	}
	if err != nil {
		p.demoFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/leads/"+id+"?done=demo#demo", http.StatusSeeOther)
}

// CancelDemo is POST /console/leads/{id}/demo/cancel.
func (p *Pages) CancelDemo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := p.cfg.Store.CancelDemo(r.Context(), id, sessionOf(r).Token.Actor()); err != nil {
		p.demoFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/leads/"+id+"?done=demo_cancelled#demo", http.StatusSeeOther)
}

// demoFailed shows a refused scheduling on the lead page: a lead without a scheduled demo
// is a conflict here (the page was stale), not a missing lead.
func (p *Pages) demoFailed(w http.ResponseWriter, r *http.Request, err error) {
	var de *lead.Error
	if errors.As(err, &de) && de.Code == lead.CodeNotFound && de != lead.ErrNotFound {
		err = &lead.Error{Code: lead.CodeConflict, Message: de.Message}
	}
	p.leadActionFailed(w, r, err, func(d *leadData, de *lead.Error) {
		msg := p.issueText(r, de)
		if de.Rule != "" && len(de.Issues) == 0 {
			msg = p.cat.Issue(langOf(r), lead.Issue{Rule: de.Rule, Message: de.Message})
		}
		if d.DemoPanel != nil {
			d.DemoPanel.Error = p.tr(r).T("demo.failed", msg)
		} else {
			d.Banner = p.tr(r).T("demo.failed", msg)
		}
	})
}

type demosData struct {
	chrome
	Demos []store.DemoToClose
	Hosts map[string]string
	Flash string
	Error string
}

// maxDemosToClose bounds the list; the oldest come first, and closing them brings the next.
const maxDemosToClose = 200

// DemosPage is GET /console/demos: the scheduled demos that have ended, waiting for an outcome.
func (p *Pages) DemosPage(w http.ResponseWriter, r *http.Request) {
	p.renderDemos(w, r, http.StatusOK, "")
}

func (p *Pages) renderDemos(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	tr := p.tr(r)
	list, err := p.cfg.Store.DemosToClose(r.Context(), maxDemosToClose)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	c := p.base(r, tr.T("demos.title"))
	c.Nav = "demos"
	d := demosData{chrome: c, Demos: list, Error: errMsg}
	if errMsg != "" {
		d.Title = tr.T("error.prefix", d.Title)
	}
	if r.URL.Query().Get("done") == "outcome" {
		d.Flash = tr.T("demos.flash")
	}
	p.render(w, r, status, "console_demos", d)
}

// DemoOutcome is POST /console/leads/{id}/demo/outcome from the demos to close.
func (p *Pages) DemoOutcome(w http.ResponseWriter, r *http.Request) {
	_, err := p.cfg.Store.RecordDemoOutcome(r.Context(), r.PathValue("id"), r.PostForm.Get("outcome"), sessionOf(r).Token.Actor())
	var de *lead.Error
	switch {
	case err == nil:
		http.Redirect(w, r, "/console/demos?done=outcome", http.StatusSeeOther)
	case errors.As(err, &de) && (de.Code == lead.CodeInvalid || de.Code == lead.CodeConflict || de.Code == lead.CodeNotFound):
		status := http.StatusConflict
		if de.Code == lead.CodeInvalid {
			status = http.StatusUnprocessableEntity
		}
		msg := p.issueText(r, de)
		if de.Rule != "" && len(de.Issues) == 0 {
			msg = p.cat.Issue(langOf(r), lead.Issue{Rule: de.Rule, Message: de.Message})
		}
		p.renderDemos(w, r, status, p.tr(r).T("demo.failed", msg))
	default:
		p.internalError(w, r, err)
	}
}
