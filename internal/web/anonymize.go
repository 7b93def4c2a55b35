package web

import (
	"net/http"

	"github.com/norsedigital/leads/internal/lead"
)

type anonymizeData struct {
	chrome
	Lead lead.Lead
}

// ConfirmAnonymize is GET /console/leads/{id}/anonymize (admin): the confirmation step.
func (p *Pages) ConfirmAnonymize(w http.ResponseWriter, r *http.Request) {
	l, err := p.cfg.Store.GetLead(r.Context(), r.PathValue("id"))
	if err != nil {
		p.leadError(w, r, err)
		return
	}
	if l.AnonymizedAt != nil {
		http.Redirect(w, r, "/console/leads/"+l.ID, http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "console_anonymize", anonymizeData{
		chrome: p.anonChrome(r, l), Lead: l})
}

func (p *Pages) anonChrome(r *http.Request, l lead.Lead) chrome {
	c := p.base(r, p.tr(r).T("anon.title", l.FirstName+" "+l.LastName))
	c.Nav = "leads"
	return c
}

// Anonymize is POST /console/leads/{id}/anonymize (admin): erase the lead's personal data
// (SPEC §3.8). The store makes it idempotent.
func (p *Pages) Anonymize(w http.ResponseWriter, r *http.Request) {
	l, err := p.cfg.Store.AnonymizeLead(r.Context(), r.PathValue("id"), sessionOf(r).Token.Actor())
	if err != nil {
		p.leadError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/leads/"+l.ID+"?done=anonymized", http.StatusSeeOther)
}
