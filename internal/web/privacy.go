package web

import "net/http"

type privacyData struct {
	chrome
	ConsentVersion  string
	IPRetentionDays int
	// InactiveRetentionDays is --inactive-retention in days; 0 when it is off
	InactiveRetentionDays int
}

// Privacy is GET /privacy: the privacy notice the consent checkbox and the emails link to.
func (p *Pages) Privacy(w http.ResponseWriter, r *http.Request) {
	c := p.base(r, p.tr(r).T("privacy.title"))
	c.Embed = r.URL.Query().Get("embed") == "1"
	p.render(w, r, http.StatusOK, "public_privacy", privacyData{
		chrome:                c,
		ConsentVersion:        p.cfg.Intake.ConsentVersion,
		IPRetentionDays:       int(p.cfg.IPRetention.Hours() / 24),
		InactiveRetentionDays: int(p.cfg.InactiveRetention.Hours() / 24),
	})
}
