package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/lead"
)

// chrome is what every layout shows around a page.
type chrome struct {
	Title string
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
	d := errorData{chrome: chrome{Title: title, Session: sessionOf(r), RequestID: w.Header().Get("X-Request-Id")}, Message: message}
	page := "public_error"
	if strings.HasPrefix(r.URL.Path, "/console") {
		page = "console_error"
	}
	p.render(w, r, status, page, d)
}

// internalError logs err (never personal data: store errors carry none) and shows a page
// with the request id.
func (p *Pages) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if lead.ErrorCode(err) == lead.CodeUnavailable {
		p.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
			"The database is not answering right now. Nothing was saved; please try again in a minute.")
		return
	}
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("route", r.Pattern),
		slog.String("request_id", w.Header().Get("X-Request-Id")), slog.String("error", err.Error()))
	p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"An internal error occurred and has been logged. Nothing was saved; please try again.")
}

// formError answers a form body that could not be read.
func (p *Pages) formError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) && tooBig.Limit > maxFormBody {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, "File too large",
			fmt.Sprintf("The file is larger than %d MiB, so nothing was imported. Split it and try again.", csvimport.MaxBytes>>20))
		return
	}
	if errors.As(err, &tooBig) {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, "Too much text", "The form was too large to accept. Shorten the text and try again.")
		return
	}
	p.errorPage(w, r, http.StatusBadRequest, "Unreadable form", "The form could not be read. Reload the page and try again.")
}

// NotFound is the 404 page of the console section.
func (p *Pages) NotFound(w http.ResponseWriter, r *http.Request) {
	p.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
}
