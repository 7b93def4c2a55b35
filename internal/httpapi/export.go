package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// csvColumns is the export's header: the seed's column names and anonymized_at.
var csvColumns = []string{"id", "first_name", "last_name", "email", "phone", "organization_name",
	"organization_type", "organization_size", "role_title", "source", "status", "notes", "message",
	"utm_source", "utm_medium", "utm_campaign", "ip_address", "consent_given", "consent_timestamp",
	"created_at", "updated_at", "anonymized_at"}

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
		rec      = make([]string, len(csvColumns))
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
		return cw.Write(csvColumns)
	}
	write := func(b []lead.Lead) error {
		if cw == nil {
			if err := begin(); err != nil {
				return err
			}
		}
		for i := range b {
			csvRecord(rec, &b[i])
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
	attrs := []slog.Attr{slog.String("request_id", requestID(r)), slog.String("actor", actor(r).Name),
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

// csvRecord fills rec with l in csvColumns order: null is an empty cell, times are RFC 3339
// UTC, and any cell a spreadsheet would run as a formula is defused.
func csvRecord(rec []string, l *lead.Lead) {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	tm := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	rec[0], rec[1], rec[2], rec[3], rec[4] = l.ID, l.FirstName, l.LastName, l.Email, str(l.Phone)
	rec[5], rec[6], rec[7], rec[8] = l.OrganizationName, str(l.OrganizationType), str(l.OrganizationSize), str(l.RoleTitle)
	rec[9], rec[10], rec[11], rec[12] = string(l.Source), string(l.Status), str(l.Notes), str(l.Message)
	rec[13], rec[14], rec[15], rec[16] = str(l.UTMSource), str(l.UTMMedium), str(l.UTMCampaign), str(l.IPAddress)
	rec[17], rec[18] = strconv.FormatBool(l.ConsentGiven), tm(l.ConsentTimestamp)
	rec[19], rec[20], rec[21] = tm(&l.CreatedAt), tm(&l.UpdatedAt), tm(l.AnonymizedAt)
	for i, c := range rec {
		rec[i] = defuseFormula(c)
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
