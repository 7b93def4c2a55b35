package web

import (
	"errors"
	"net/http"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
)

// The console's Review page (SPEC §15): the held submissions, released or discarded by a
// salesperson, and (for admins) the blocklist.

type reviewData struct {
	chrome
	Held    []store.HeldBooking
	Blocks  []store.BlockEntry
	Admin   bool
	Flash   string
	Banner  string
	Kinds   []string
	Kind    string // the blocklist form's values, kept when refused
	Value   string
	MaxHeld int
}

// maxReviewed is how many held submissions the page shows (newest first).
const maxReviewed = 200

// Review is GET /console/review.
func (p *Pages) Review(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	var flash string
	switch r.URL.Query().Get("done") {
	case "released":
		flash = tr.T("review.flash_released")
	case "discarded":
		flash = tr.T("review.flash_discarded")
	case "blocked":
		flash = tr.T("blocklist.flash_added")
	case "unblocked":
		flash = tr.T("blocklist.flash_removed")
	}
	p.renderReview(w, r, http.StatusOK, func(d *reviewData) { d.Flash = flash })
}

func (p *Pages) renderReview(w http.ResponseWriter, r *http.Request, status int, set func(*reviewData)) {
	c := p.base(r, p.tr(r).T("review.title"))
	c.Nav = "review"
	d := reviewData{chrome: c, Admin: sessionOf(r).Token.Role == lead.RoleAdmin, MaxHeld: maxReviewed,
		Kinds: []string{spam.BlockEmail, spam.BlockDomain, spam.BlockIP}, Kind: spam.BlockEmail}
	var err error
	if d.Held, err = p.cfg.Store.HeldBookings(r.Context(), maxReviewed); err != nil {
		p.internalError(w, r, err)
		return
	}
	if d.Admin {
		if d.Blocks, err = p.cfg.Store.Blocklist(r.Context()); err != nil {
			p.internalError(w, r, err)
			return
		}
	}
	if set != nil {
		set(&d)
	}
	if d.Banner != "" {
		d.Title = p.tr(r).T("error.prefix", d.Title)
	}
	p.render(w, r, status, "console_review", d)
}

// ReleaseHeld is POST /console/review/{id}/release: booked as if it arrived now.
func (p *Pages) ReleaseHeld(w http.ResponseWriter, r *http.Request) {
	_, err := p.cfg.Intake.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		p.reviewFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/review?done=released", http.StatusSeeOther)
}

// DiscardHeld is POST /console/review/{id}/discard.
func (p *Pages) DiscardHeld(w http.ResponseWriter, r *http.Request) {
	if err := p.cfg.Intake.Discard(r.Context(), r.PathValue("id")); err != nil {
		p.reviewFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/review?done=discarded", http.StatusSeeOther)
}

// reviewFailed shows why an action on a held submission did nothing: gone (404), or
// refused by validation (422); anything else is an error page.
func (p *Pages) reviewFailed(w http.ResponseWriter, r *http.Request, err error) {
	tr := p.tr(r)
	var de *lead.Error
	switch {
	case errors.Is(err, lead.ErrNotFound):
		p.renderReview(w, r, http.StatusNotFound, func(d *reviewData) { d.Banner = tr.T("review.gone") })
	case errors.As(err, &de) && de.Code == lead.CodeInvalid:
		p.renderReview(w, r, http.StatusUnprocessableEntity, func(d *reviewData) {
			d.Banner = tr.T("review.release_failed", p.issueText(r, de))
		})
	default:
		p.internalError(w, r, err)
	}
}

// AddBlock is POST /console/blocklist (admin): kind and value, as the API takes them.
func (p *Pages) AddBlock(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	kind, value := r.PostForm.Get("kind"), r.PostForm.Get("value")
	refuse := func(status int, msg string) {
		p.renderReview(w, r, status, func(d *reviewData) { d.Banner, d.Kind, d.Value = msg, kind, value })
	}
	norm, err := spam.NormalizeBlock(kind, value)
	if err != nil {
		why := tr.T("rule.blocklist_value_validation")
		if kind != spam.BlockEmail && kind != spam.BlockDomain && kind != spam.BlockIP {
			why = tr.T("rule.blocklist_kind_validation")
		}
		refuse(http.StatusUnprocessableEntity, tr.T("blocklist.failed", why))
		return
	}
	if _, err := p.cfg.Store.AddBlock(r.Context(), kind, norm); err != nil {
		if lead.ErrorCode(err) == lead.CodeConflict {
			refuse(http.StatusConflict, tr.T("blocklist.failed", tr.T("blocklist.exists")))
			return
		}
		p.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/review?done=blocked#blocklist", http.StatusSeeOther)
}

// DeleteBlock is POST /console/blocklist/{id}/delete (admin).
func (p *Pages) DeleteBlock(w http.ResponseWriter, r *http.Request) {
	if err := p.cfg.Store.DeleteBlock(r.Context(), r.PathValue("id")); err != nil && !errors.Is(err, lead.ErrNotFound) {
		p.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/review?done=unblocked#blocklist", http.StatusSeeOther)
}
