package httpapi

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/store"
)

// importDeadline is how long reading and importing one file may take; a 50 MiB upload on
// a slow line outlasts the server's general read timeout.
const importDeadline = 10 * time.Minute

// handleImport is POST /api/v1/imports (sales): a CSV file of leads (text/csv, UTF-8, at
// most csvimport.MaxBytes), read by csvimport, stored by store.Import and answered
// with the report. The whole body
// is read before anything is stored, so a file that is too large stores nothing.
func (s *server) handleImport(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if cs := params["charset"]; err != nil || mt != "text/csv" || (cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii")) {
		s.badRequest(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"send the file as text/csv in UTF-8")
		return
	}
	if r.ContentLength > csvimport.MaxBytes {
		s.tooLarge(w, r)
		return
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(importDeadline)) // unsupported writers keep the server's
	rc.SetWriteDeadline(time.Now().Add(importDeadline))
	var body bytes.Buffer
	if r.ContentLength > 0 {
		body.Grow(int(r.ContentLength) + 1)
	}
	_, err = body.ReadFrom(http.MaxBytesReader(w, r.Body, csvimport.MaxBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.tooLarge(w, r)
		return
	case err != nil:
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", "the body could not be read")
		return
	}
	// once started, an import runs to its end even if the client goes away: a file half
	// imported at a random row would be harder to reason about than a whole one
	file, err := csvimport.Read(body.Bytes(), s.Store.Now())
	var fe *csvimport.FormatError
	switch {
	case errors.As(err, &fe):
		s.badRequest(w, r, http.StatusBadRequest, "malformed-csv", "Malformed CSV", fe.Error())
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	res, err := s.Store.Import(context.WithoutCancel(r.Context()), file.Rows(), actor(r).Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep := file.Report(res.Created, res.Linked, res.NotesLeftOut, store.MaxNotesLength)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, rep)
}

func (s *server) tooLarge(w http.ResponseWriter, r *http.Request) {
	s.badRequest(w, r, http.StatusRequestEntityTooLarge, "too-large", "Request body too large", "an import file must be at most 50 MiB")
}
