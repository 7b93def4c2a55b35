package web

import (
	"net/http"
	"regexp"
)

type thanksData struct {
	chrome
	Ref          string
	PhoneWarning bool
}

var bookingRef = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Thanks is GET /thanks: where a successful booking lands (POST-redirect-GET). The
// reference is shown only when it looks like one; nothing else of the URL is echoed.
func (p *Pages) Thanks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := p.base(r, p.tr(r).T("thanks.title"))
	c.Embed = q.Get("embed") == "1"
	d := thanksData{chrome: c,
		PhoneWarning: q.Get("phone") == "unrecognized"}
	if ref := q.Get("ref"); bookingRef.MatchString(ref) {
		d.Ref = ref
	}
	p.render(w, r, http.StatusOK, "public_thanks", d)
}
