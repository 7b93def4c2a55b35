package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// The prospect's own page (SPEC §14): /my asks for an address and emails a fresh personal
// link; /my/{token} shows everything held about the lead, and lets the person download it,
// correct it, or withdraw consent and have it erased. Every action is a POST bound to the
// link (the token in its path), refused when another site sent it.

// cspSelf is the public pages' policy, but never framed: the page shows personal data and
// has a destructive button, so no other site may put it under a visitor's click.
const cspSelf = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// SelfService wraps a page of the prospect's own: no framing, no caching (headers), the
// cross-origin check of the other forms (Sec-Fetch-Site, else Origin against Host: 403),
// and no Referer, so that the link in the address bar travels nowhere.
func (p *Pages) SelfService(h http.HandlerFunc) http.Handler {
	return headers(cspSelf, true, withLang(p.crossOrigin(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		h(w, r)
	})))
}

// selfFields are the details a person may correct on their page: the booking form's
// fields (labels, limits, required) but the email, which is what the link was sent to, and
// the message, which was a request, not a detail.
var selfFields = slices.DeleteFunc(slices.Clone(bookingFields), func(f formField) bool {
	return f.Name == "email" || f.Name == "message"
})

type myRequestData struct {
	chrome
	Email   formField
	Summary []issueLink
	Sent    bool
	Banner  string
}

type myData struct {
	chrome
	Token    string
	Lead     lead.Lead
	Bookings []lead.BookingRecord
	Fields   map[string]formField
	Summary  []issueLink
	Flash    string
	Banner   string
	Demo     *myDemo // the scheduled demo (selfdemo.go); nil when none
}

type myGoneData struct {
	chrome
	Message string
}

// MyRequestForm is GET /my: the form that asks for an address; ?sent=1 is the answer
// after POST /my (POST-redirect-GET).
func (p *Pages) MyRequestForm(w http.ResponseWriter, r *http.Request) {
	d := p.newMyRequest(r, "")
	d.Sent = r.URL.Query().Get("sent") == "1"
	if d.Sent {
		d.Title = p.tr(r).T("my.sent_title")
	}
	p.render(w, r, http.StatusOK, "public_my_request", d)
}

func (p *Pages) newMyRequest(r *http.Request, email string) myRequestData {
	tr := p.tr(r)
	f, _ := lead.LookupField("email")
	return myRequestData{chrome: p.base(r, tr.T("my.title")), Email: formField{Name: "email", Label: tr.T("my.email"),
		Type: "email", Autocomplete: "email", Required: true, MaxLength: f.Limit, Value: email}}
}

// MyRequest is POST /my: it answers the same whether or not the address is a lead's, and
// the store emails a fresh link only to a live lead, at most 3 a day. Every request counts
// against the client's --rate-limit (the booking's per-IP limit, on its own count).
func (p *Pages) MyRequest(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	tr := p.tr(r)
	email := strings.Trim(r.PostForm.Get("email"), " \t")
	d := p.newMyRequest(r, email)
	switch {
	case email == "":
		d.Email.Error = tr.T("my.email_required")
	case len(email) > d.Email.MaxLength || !lead.ValidEmail(email):
		d.Email.Error = tr.T("my.email_invalid")
	}
	if d.Email.Error != "" {
		d.Summary = []issueLink{{Field: "email", Message: d.Email.Error}}
		d.Title = tr.T("error.prefix", d.Title)
		p.render(w, r, http.StatusUnprocessableEntity, "public_my_request", d)
		return
	}
	rl := p.cfg.Intake.RateLimit
	err := p.cfg.Store.RequestPersonalLink(r.Context(), store.LinkRequest{Email: email, IP: p.cfg.ClientIP(r),
		Limit: rl.Count, Window: rl.Window})
	var de *lead.Error
	switch {
	case err == nil:
		http.Redirect(w, r, "/my?"+url.Values{"sent": {"1"}, "lang": {string(tr.L)}}.Encode(), http.StatusSeeOther)
	case errors.As(err, &de) && de.Code == lead.CodeRateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(de.RetryAfter.Seconds())))
		d.Banner = tr.T("my.rate_limited", humanDuration(tr, de.RetryAfter))
		d.Title = tr.T("booking.try_later")
		p.render(w, r, http.StatusTooManyRequests, "public_my_request", d)
	default:
		p.internalError(w, r, err)
	}
}

// myLead resolves the link of r to its live lead and puts the page in the lead's language
// (unless ?lang= asks for another). A forged, unknown or expired link gets a 404 page and
// an erased lead's a 410 page, both saying only that the link does not work: ok is false
// and the answer is written.
func (p *Pages) myLead(w http.ResponseWriter, r *http.Request) (l lead.Lead, _ *http.Request, ok bool) {
	id, err := p.cfg.Store.PersonalLinkLead(r.Context(), r.PathValue("token"))
	if err == nil {
		l, err = p.cfg.Store.GetLead(r.Context(), id)
		if err == nil && l.AnonymizedAt != nil {
			err = store.ErrPersonalLinkGone
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, lead.ErrNotFound):
		p.myGone(w, r, http.StatusNotFound)
		return l, r, false
	case errors.Is(err, store.ErrPersonalLinkGone):
		p.myGone(w, r, http.StatusGone)
		return l, r, false
	default:
		p.internalError(w, r, err)
		return l, r, false
	}
	if _, set := i18n.Parse(r.URL.Query().Get("lang")); !set {
		if lang, known := i18n.Parse(l.Language); known {
			r = r.WithContext(context.WithValue(r.Context(), langKey{}, lang))
		}
	}
	return l, r, true
}

// myGone is the page of a link that does not work: 404 (forged, unknown, expired) or 410
// (the lead was erased).
func (p *Pages) myGone(w http.ResponseWriter, r *http.Request, status int) {
	tr := p.tr(r)
	title, msg := tr.T("my.invalid_title"), tr.T("my.invalid")
	if status == http.StatusGone {
		title, msg = tr.T("my.gone_title"), tr.T("my.gone")
	}
	c := p.base(r, title)
	c.Langs = p.myLangs(r, r.PathValue("token")) // after a POST, the link's own page
	p.render(w, r, status, "public_my_gone", myGoneData{chrome: c, Message: msg})
}

// MyNotFound answers any other path under /my/ with the page of a link that does not work.
func (p *Pages) MyNotFound(w http.ResponseWriter, r *http.Request) {
	p.myGone(w, r, http.StatusNotFound)
}

// myLangs is the language switch of a self-service page: the page's own path (after a POST
// the GET of the link's page, never the action's URL).
func (p *Pages) myLangs(r *http.Request, token string) []langLink {
	l := langOf(r)
	path := r.URL.Path
	if token != "" {
		path = "/my/" + token
	}
	var out []langLink
	for _, other := range i18n.Langs {
		out = append(out, langLink{Lang: string(other), Name: p.cat.T(other, "lang."+string(other)),
			URL: path + "?lang=" + string(other), Current: other == l})
	}
	return out
}

// MyPage is GET /my/{token}: everything held about the lead, and its actions.
func (p *Pages) MyPage(w http.ResponseWriter, r *http.Request) {
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	d, err := p.newMyData(r, l, nil)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	tr := p.tr(r)
	switch r.URL.Query().Get("done") {
	case "corrected":
		d.Flash = tr.T("my.corrected")
	case "unchanged":
		d.Flash = tr.T("my.unchanged")
	case "demo_moved":
		d.Flash = tr.T("my.demo_moved")
	case "demo_cancelled":
		d.Flash = tr.T("my.demo_cancelled")
	}
	p.render(w, r, http.StatusOK, "public_my", d)
}

// newMyData is the page of l; form holds what was typed into the correction form (nil:
// the stored values).
func (p *Pages) newMyData(r *http.Request, l lead.Lead, form url.Values) (myData, error) {
	tr := p.tr(r)
	bookings, err := p.cfg.Store.ListBookings(r.Context(), l.ID)
	if err != nil {
		return myData{}, err
	}
	token := r.PathValue("token")
	c := p.base(r, tr.T("my.title"))
	c.Langs = p.myLangs(r, token)
	d := myData{chrome: c, Token: token, Lead: l, Bookings: bookings, Fields: map[string]formField{}}
	if d.Demo, err = p.loadMyDemo(r, l); err != nil {
		return myData{}, err
	}
	for _, f := range selfFields {
		if form != nil {
			f.Value = form.Get(f.Name)
		} else if fd, ok := lead.LookupField(f.Name); ok {
			f.Value = fd.Cell(&l)
		}
		f.Label = tr.T(f.Label)
		if f.Hint != "" {
			f.Hint = tr.T(f.Hint)
		}
		if f.Options != nil && f.Value != "" && !slices.Contains(f.Options, f.Value) {
			f.Options = append(slices.Clip(f.Options), f.Value) // free text: keep what is stored
		}
		d.Fields[f.Name] = f
	}
	return d, nil
}

// MyExport is POST /my/{token}/export: the admin export's JSON document (store.ExportLead),
// as a download, recorded as an `exported` event by data_subject.
func (p *Pages) MyExport(w http.ResponseWriter, r *http.Request) {
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	x, err := p.cfg.Store.ExportLead(r.Context(), l.ID, lead.DataSubjectActor)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="meander-my-data-`+x.ExportedAt.Format("2006-01-02")+`.json"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(x)
}

// MyCorrect is POST /my/{token}/details: a correction with the staff patch's validation
// (store.PatchLead), as an `updated` event by data_subject. A refusal shows the page again
// with the errors beside the fields and what was typed; nothing is stored.
func (p *Pages) MyCorrect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	var in lead.Input
	for _, f := range selfFields {
		// a field the post leaves out stays as it is (only what was sent is a correction)
		if _, sent := r.PostForm[f.Name]; sent {
			fd, _ := lead.LookupField(f.Name)
			*fd.Input(&in) = lead.Val(r.PostForm.Get(f.Name))
		}
	}
	out, err := p.cfg.Store.PatchLead(r.Context(), l.ID, in, nil, lead.DataSubjectActor)
	var de *lead.Error
	switch {
	case err == nil:
		done := "corrected"
		if out.UpdatedAt.Equal(l.UpdatedAt) {
			done = "unchanged"
		}
		http.Redirect(w, r, "/my/"+r.PathValue("token")+"?"+url.Values{"done": {done}, "lang": {string(langOf(r))}}.Encode(), http.StatusSeeOther)
	case errors.As(err, &de) && de.Code == lead.CodeInvalid:
		d, err := p.newMyData(r, l, r.PostForm)
		if err != nil {
			p.internalError(w, r, err)
			return
		}
		tr := p.tr(r)
		byField := map[string]string{}
		for _, is := range p.cat.Issues(tr.L, de.Issues) {
			byField[is.Field] = strings.TrimSpace(byField[is.Field] + " " + is.Message)
		}
		for _, f := range selfFields {
			if msg := byField[f.Name]; msg != "" {
				ff := d.Fields[f.Name]
				ff.Error = msg
				d.Fields[f.Name] = ff
				d.Summary = append(d.Summary, issueLink{Field: f.Name, Message: msg})
			}
		}
		d.Banner = tr.T("my.not_saved")
		d.Title = tr.T("error.prefix", d.Title)
		p.render(w, r, http.StatusUnprocessableEntity, "public_my", d)
	case errors.As(err, &de) && de.Code == lead.CodeConflict:
		p.myGone(w, r, http.StatusGone) // erased meanwhile
	default:
		p.internalError(w, r, err)
	}
}

// MyConfirmErase is GET /my/{token}/erase: what erasure does, and the button that does it.
func (p *Pages) MyConfirmErase(w http.ResponseWriter, r *http.Request) {
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	tr := p.tr(r)
	c := p.base(r, tr.T("my.erase_title"))
	c.Langs = p.myLangs(r, "")
	p.render(w, r, http.StatusOK, "public_my_erase", myData{chrome: c, Token: r.PathValue("token"), Lead: l})
}

// MyErase is POST /my/{token}/erase: the consent is withdrawn and the lead anonymized
// (§3.8, store.AnonymizeLead, one transaction that also revokes the links), by data_subject.
// It lands on the link's page, which now answers 410.
func (p *Pages) MyErase(w http.ResponseWriter, r *http.Request) {
	l, r, ok := p.myLead(w, r)
	if !ok {
		return
	}
	if _, err := p.cfg.Store.AnonymizeLead(r.Context(), l.ID, lead.DataSubjectActor); err != nil {
		p.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/my/"+r.PathValue("token")+"?lang="+string(langOf(r)), http.StatusSeeOther)
}
