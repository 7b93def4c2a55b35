package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/lead"
)

// chrome is what every layout shows around a page.
type chrome struct {
	Title string
	// Lang is the page's language (<html lang>); Langs the language switch.
	Lang  string
	Langs []langLink
	// Session is the signed-in user on console pages (nil on public ones and sign-in).
	Session *staffSession
	// Nav names the current console section: "leads", "stats" or "import".
	Nav string
	// Embed drops the public header and footer for the iframe version of the form.
	Embed bool
	// RequestID is shown on error pages so that support can find the log line.
	RequestID string
}

type errorData struct {
	chrome
	Message string
}

// errorPage renders a short error page in the layout of the section the request is in.
func (p *Pages) errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	c := p.base(r, title)
	c.RequestID = w.Header().Get("X-Request-Id")
	d := errorData{chrome: c, Message: message}
	page := "public_error"
	if strings.HasPrefix(r.URL.Path, "/console") {
		page = "console_error"
	}
	p.render(w, r, status, page, d)
}

// internalError logs err (never personal data: store errors carry none) and shows a page
// with the request id.
func (p *Pages) internalError(w http.ResponseWriter, r *http.Request, err error) {
	tr := p.tr(r)
	if lead.ErrorCode(err) == lead.CodeUnavailable {
		p.errorPage(w, r, http.StatusServiceUnavailable, tr.T("errors.unavailable"), tr.T("errors.unavailable_text"))
		return
	}
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("route", r.Pattern),
		slog.String("request_id", w.Header().Get("X-Request-Id")), slog.String("error", err.Error()))
	p.errorPage(w, r, http.StatusInternalServerError, tr.T("errors.internal"), tr.T("errors.internal_text"))
}

// formError answers a form body that could not be read.
func (p *Pages) formError(w http.ResponseWriter, r *http.Request, err error) {
	tr := p.tr(r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) && tooBig.Limit > maxFormBody {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, tr.T("errors.file_too_large"),
			tr.T("errors.file_too_large_text", csvimport.MaxBytes>>20))
		return
	}
	if errors.As(err, &tooBig) {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, tr.T("errors.too_much_text"), tr.T("errors.too_much_text_text"))
		return
	}
	p.errorPage(w, r, http.StatusBadRequest, tr.T("errors.unreadable"), tr.T("errors.unreadable_text"))
}

// NotFound is the 404 page of the console section.
func (p *Pages) NotFound(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	p.errorPage(w, r, http.StatusNotFound, tr.T("errors.not_found"), tr.T("errors.not_found_text"))
}
