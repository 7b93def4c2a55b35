package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/store"
)

// importDeadline is how long reading and importing one file may take; a 50 MiB upload on
// a slow line outlasts the server's general read timeout.
const importDeadline = 10 * time.Minute

// Bounds of the imports (Deps.MaxImports, Deps.ImportIdleTimeout): each holds up to 50 MiB
// while it runs, so only a few may run at once, and an upload that stops sending gives its
// place back instead of holding it until importDeadline.
const (
	DefaultMaxImports        = 2
	DefaultImportIdleTimeout = 30 * time.Second
)

// handleImport is POST /api/v1/imports (sales): a CSV file of leads (text/csv, UTF-8, at
// most csvimport.MaxBytes), read by csvimport, stored by store.Import and answered
// with the report. The whole body
// is read before anything is stored, so a file that is too large stores nothing.
func (s *server) handleImport(w http.ResponseWriter, r *http.Request) {
	// An import refused before its body is read is answered at once and its connection
	// closed: otherwise net/http reads up to 256 KiB of the unwanted upload before it
	// sends the answer, which a slow (or stalled) uploader never gets.
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if cs := params["charset"]; err != nil || mt != "text/csv" || (cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii")) {
		w.Header().Set("Connection", "close")
		s.badRequest(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"send the file as text/csv in UTF-8")
		return
	}
	if r.ContentLength > csvimport.MaxBytes {
		s.tooLarge(w, r)
		return
	}
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
	default:
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "30")
		s.badRequest(w, r, http.StatusServiceUnavailable, "imports-busy", "Too many imports at once",
			"other imports are running; send the file again in a little while")
		return
	}
	start := time.Now()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(start.Add(importDeadline))
	// The buffer grows with the bytes that arrive, never with what Content-Length
	// announces: a request announcing 50 MiB and sending 10 bytes holds 10 bytes.
	var body bytes.Buffer
	_, err = body.ReadFrom(&idleReader{r: http.MaxBytesReader(w, r.Body, csvimport.MaxBytes), rc: rc,
		idle: cmp.Or(s.ImportIdleTimeout, DefaultImportIdleTimeout), end: start.Add(importDeadline)})
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.tooLarge(w, r)
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		s.badRequest(w, r, http.StatusRequestTimeout, "upload-timeout", "Upload timed out",
			"the upload sent nothing for too long; nothing was imported")
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
	members, err := s.Store.ListMembers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	file.SetOwners(members) // the owner_email column (SPEC §11)
	res, err := s.Store.Import(context.WithoutCancel(r.Context()), file.Rows(), actor(r).Actor())
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

// idleReader reads an upload with a read deadline moved forward before every read: idle
// after the last bytes arrived, never past end. An upload that sends nothing for idle
// fails with os.ErrDeadlineExceeded. Where the writer cannot set deadlines (tests calling
// the handler directly), the server's own timeouts apply.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
}

func (ir *idleReader) Read(p []byte) (int, error) {
	d := time.Now().Add(ir.idle)
	if d.After(ir.end) {
		d = ir.end
	}
	ir.rc.SetReadDeadline(d)
	return ir.r.Read(p)
}
