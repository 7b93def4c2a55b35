package httpapi

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// csvFields are the export's columns, in the field table's order: the seed's columns and
// anonymized_at (lead.Field.Export).
func csvFields() []*lead.Field {
	var cols []*lead.Field
	fields := lead.Fields()
	for i := range fields {
		if fields[i].Export {
			cols = append(cols, &fields[i])
		}
	}
	return cols
}

// csvHeader is the header row of the columns.
func csvHeader(cols []*lead.Field) []string {
	names := make([]string, len(cols))
	for i, f := range cols {
		names[i] = f.Name
	}
	return names
}

// csvFlushRows is how many rows go out between flushes: often enough that a download
// visibly progresses, rarely enough that flushing costs nothing.
const csvFlushRows = 1000

// csvBatch is how many leads the database reader hands the CSV writer at a time.
const csvBatch = 256

// handleExportCSV is GET /api/v1/leads.csv: every lead matching the list's filters (limit
// and cursor do not apply), newest first, streamed from the database cursor row by row, so
// memory stays constant whatever the size: one goroutine reads rows while this one writes
// CSV, with at most a few batches of leads between them.
func (s *server) handleExportCSV(w http.ResponseWriter, r *http.Request) {
	v, ok := s.queryValues(w, r)
	if !ok {
		return
	}
	delete(v, "limit")
	delete(v, "cursor")
	q, err := parseListQuery(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	batches := make(chan []lead.Lead, 4)
	var readErr error
	go func() {
		defer close(batches)
		send := func(b []lead.Lead) error {
			select {
			case batches <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		b := make([]lead.Lead, 0, csvBatch)
		readErr = s.Store.ExportLeads(ctx, q.Filter, func(l *lead.Lead) error {
			if b = append(b, *l); len(b) < csvBatch {
				return nil
			}
			err := send(b)
			b = make([]lead.Lead, 0, csvBatch)
			return err
		})
		if readErr == nil && len(b) > 0 {
			readErr = send(b)
		}
	}()

	rc := http.NewResponseController(w)
	var (
		cw       *csv.Writer
		rows     int
		writeErr error
		cols     = csvFields()
		rec      = make([]string, len(cols))
	)
	// The status line waits for the first rows, so a query that fails at once is still
	// answered with a problem.
	begin := func() error {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="leads.csv"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		// csv.Writer adopts a large enough bufio.Writer: 64 KiB chunks instead of 4 KiB
		// ones make a tenth of the write system calls
		cw = csv.NewWriter(bufio.NewWriterSize(w, 64<<10))
		return cw.Write(csvHeader(cols))
	}
	write := func(b []lead.Lead) error {
		if cw == nil {
			if err := begin(); err != nil {
				return err
			}
		}
		for i := range b {
			csvRecord(rec, cols, &b[i])
			if err := cw.Write(rec); err != nil {
				return err
			}
			if rows++; rows%csvFlushRows == 0 {
				cw.Flush()
				if err := cw.Error(); err != nil {
					return err
				}
				// a long export may outlive the server's write timeout; a stalled client may not
				rc.SetWriteDeadline(time.Now().Add(time.Minute))
				if err := rc.Flush(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for b := range batches {
		if writeErr == nil {
			if writeErr = write(b); writeErr != nil {
				cancel() // the reader stops; the loop drains what it already sent
			}
		}
	}
	err = writeErr
	if err == nil {
		err = readErr
	}
	if err == nil && cw == nil {
		err = begin()
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	attrs := []slog.Attr{slog.String("request_id", requestID(r)), slog.String("actor_id", cmp.Or(actor(r).StaffID, actor(r).ID)),
		slog.Int("rows", rows), slog.Duration("duration", time.Since(start))}
	if err != nil {
		if cw == nil {
			s.writeError(w, r, err)
			return
		}
		// The 200 and some rows are gone: cutting the connection makes the client see a
		// failed download rather than a complete-looking short file.
		s.Logger.LogAttrs(r.Context(), slog.LevelWarn, "csv export aborted", append(attrs, slog.String("error", err.Error()))...)
		panic(http.ErrAbortHandler)
	}
	s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "csv export", attrs...)
}

// csvRecord fills rec with l in the order of cols (lead.Field.Cell: null is an empty cell,
// times are RFC 3339 UTC), and defuses any cell a spreadsheet would run as a formula.
func csvRecord(rec []string, cols []*lead.Field, l *lead.Lead) {
	for i, f := range cols {
		rec[i] = defuseFormula(f.Cell(l))
	}
}

// defuseFormula prefixes a cell that starts with =, +, -, @, tab or CR with ', so that
// spreadsheets show it as text instead of evaluating it (CSV injection).
func defuseFormula(c string) string {
	if c != "" {
		switch c[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + c
		}
	}
	return c
}
