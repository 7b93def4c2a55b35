package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/norsedigital/leads/internal/lead"
)

type leadListData struct {
	chrome
	Q        string
	Status   string
	Source   string
	Statuses []lead.Status
	Sources  []lead.Source
	Leads    []lead.Lead
	Filtered bool
	FirstURL string // set when not on the first page
	NextURL  string
	Errors   []string
	// the team (owners.go): the owner filter ("", "me", "none" or an id), overdue only,
	// My leads (owner = me) with its overdue leads first
	Owner       string
	OverdueOnly bool
	Mine        bool
	Overdue     []lead.Lead
	Team        teamView
}

const consolePageSize = 25

// LeadList is GET /console/leads: the leads, newest first, with the status and source
// filters, search and cursor paging of the API (the same query parameters).
func (p *Pages) LeadList(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	tr := p.tr(r)
	c := p.base(r, tr.T("leads.title"))
	c.Nav = "leads"
	d := leadListData{chrome: c,
		Q: v.Get("q"), Status: v.Get("status"), Source: v.Get("source"),
		Statuses: lead.Statuses, Sources: lead.Sources,
		Owner: v.Get(lead.FieldOwnerID), OverdueOnly: v.Get("overdue") == "true"}
	d.Filtered = d.Q != "" || d.Status != "" || d.Source != "" || d.Owner != "" || d.OverdueOnly
	team, err := p.team(r.Context(), sessionOf(r))
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	d.Team = team
	v, d.Mine = ownerFilter(v, sessionOf(r))
	if d.Mine {
		d.Title = tr.T("owner.my_leads")
	}
	q, err := parseListQuery(v)
	var de *lead.Error
	if errors.As(err, &de) && de.Code == lead.CodeInvalid {
		for _, is := range de.Issues {
			d.Errors = append(d.Errors, p.cat.Issue(tr.L, is))
		}
		d.Title = tr.T("error.prefix", d.Title)
		p.render(w, r, http.StatusUnprocessableEntity, "console_leads", d)
		return
	}
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	page, err := p.cfg.Store.ListLeads(r.Context(), q.Filter, consolePageSize, q.After)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	d.Leads = page.Items
	if d.Mine && q.After == nil && !d.OverdueOnly {
		if d.Overdue, err = p.myOverdue(r.Context(), team.Me); err != nil {
			p.internalError(w, r, err)
			return
		}
	}
	filters := url.Values{}
	for _, k := range []string{"q", "status", "source", lead.FieldOwnerID, "overdue"} {
		if s := r.URL.Query().Get(k); s != "" {
			filters.Set(k, s)
		}
	}
	if q.After != nil {
		d.FirstURL = "/console/leads?" + filters.Encode()
	}
	if page.Next != nil {
		filters.Set("cursor", page.Next.String())
		d.NextURL = "/console/leads?" + filters.Encode()
	}
	p.render(w, r, http.StatusOK, "console_leads", d)
}
