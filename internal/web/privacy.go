package web

import "net/http"

type privacyData struct {
	chrome
	ConsentVersion  string
	IPRetentionDays int
}

// Privacy is GET /privacy: the privacy notice the consent checkbox and the emails link to.
func (p *Pages) Privacy(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "public_privacy", privacyData{
		chrome:          chrome{Title: "Privacy notice", Embed: r.URL.Query().Get("embed") == "1"},
		ConsentVersion:  p.cfg.Intake.ConsentVersion,
		IPRetentionDays: int(p.cfg.IPRetention.Hours() / 24),
	})
}
