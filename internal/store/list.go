package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
)

// LeadPage is one page of the list; Next is nil on the last page.
type LeadPage struct {
	Items []lead.Lead
	Next  *query.Cursor
}

// ListLeads returns up to limit leads matching f, newest first, after the cursor (nil: from
// the newest). The cursor is a keyset position, so every page costs what the first does:
// the database walks (status, created_at) or created_at downwards from it and stops after
// limit+1 rows. A search term is looked up in the trigram index: SQLite reads its matches
// off the index newest first and stops likewise; PostgreSQL's planner picks between its
// index (rare terms) and the created_at walk (common ones).
func (s *Store) ListLeads(ctx context.Context, f query.Filter, limit int, after *query.Cursor) (LeadPage, error) {
	if limit < 1 || limit > query.MaxLimit {
		limit = query.DefaultLimit
	}
	f = s.overdueAt(f)
	items, err := s.e.listPage(ctx, s, f, after, limit+1)
	if err != nil {
		return LeadPage{}, s.mapErr(err)
	}
	page := LeadPage{Items: items}
	if page.Items == nil {
		page.Items = []lead.Lead{} // an empty page is [] in JSON, never null, whichever path found it
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = &query.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

// listQuery runs the generic list query for up to k leads; common is the engine's verdict
// on the search term (see engine.searchCond).
func (s *Store) listQuery(ctx context.Context, f query.Filter, after *query.Cursor, k int, common bool) ([]lead.Lead, error) {
	query, args := s.listSQL(leadColumns, f, after, k, common)
	rows, err := s.read.QueryContext(ctx, query, s.e.unpreparedArgs(args)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := make([]lead.Lead, 0, min(k, 64))
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, l)
	}
	return items, rows.Err()
}

// ExportLeads calls fn for every lead matching f, newest first, straight from the database
// cursor: one row in memory at a time, whatever the size. The whole export reads one
// snapshot. fn's *lead.Lead is reused between calls; an error from fn stops the export.
func (s *Store) ExportLeads(ctx context.Context, f query.Filter, fn func(*lead.Lead) error) error {
	f = s.overdueAt(f)
	query, args := s.listSQL(exportColumns(s.e), f, nil, 0, false)
	rows, err := s.read.QueryContext(ctx, query, s.e.unpreparedArgs(args)...)
	if err != nil {
		return s.mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return s.mapErr(err)
		}
		if err := fn(&l); err != nil {
			return err
		}
	}
	return s.mapErr(rows.Err())
}

// overdueAt dates an overdue filter without a time by the store's clock.
func (s *Store) overdueAt(f query.Filter) query.Filter {
	if f.Overdue && f.OverdueAt.IsZero() {
		f.OverdueAt = s.now()
	}
	return f
}

// listSQL builds the list query selecting cols (leadColumns, in scanLead's order); limit 0
// means no limit. common is the engine's verdict on the search term (engine.searchCond).
func (s *Store) listSQL(cols string, f query.Filter, after *query.Cursor, limit int, common bool) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// Several statuses without a search: one arm per status, each an index walk down
	// (status, created_at) that stops at the limit, merged. A plain status IN (…) would make
	// both engines sort every lead with any of those statuses before taking the first page.
	arms := len(f.Statuses) > 1 && f.Query == "" && limit > 0
	g := f
	if arms {
		g.Statuses = nil
	}
	where := filterSQL(s.e, g, common, arg)
	if after != nil {
		where = append(where, cursorSQL(after, arg))
	}
	const order = " ORDER BY created_at DESC, id DESC"
	lim := ""
	if limit > 0 {
		lim = " LIMIT " + arg(limit)
	}
	if !arms {
		return selectLeads(cols, where) + order + lim, args
	}
	parts := make([]string, len(f.Statuses))
	for i, st := range f.Statuses {
		w := append([]string{"status = " + arg(string(st))}, where...)
		parts[i] = "SELECT * FROM (" + selectLeads(cols, w) + order + lim + ") AS arm" + strconv.Itoa(i)
	}
	return "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + ") AS merged" + order + lim, args
}

// exportColumns is leadColumns with the timestamps read as the engine reads them fastest
// in bulk (SQLite: as text; its driver would otherwise try one time layout after another
// on every value of a DATETIME column).
func exportColumns(d engine) string {
	cols := strings.Split(leadColumns, ",")
	for i, c := range cols {
		switch c = strings.TrimSpace(c); c {
		case "consent_timestamp", "created_at", "updated_at", "anonymized_at", "first_contacted_at", "contact_due_at":
			cols[i] = d.bulkTime(c)
		default:
			cols[i] = c
		}
	}
	return strings.Join(cols, ", ")
}

// cursorSQL is the keyset condition "after the cursor". Written out rather than as a row
// comparison, so that created_at <= … bounds the index range on both engines; id breaks
// ties between equal timestamps.
func cursorSQL(after *query.Cursor, arg func(any) string) string {
	c, id := arg(ts(after.CreatedAt)), arg(after.ID)
	return "created_at <= " + c + " AND (created_at < " + c + " OR id < " + id + ")"
}

func selectLeads(cols string, where []string) string {
	q := "SELECT " + cols + " FROM leads"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q
}

// filterSQL turns f into WHERE conditions on leads (and bookings, for the dates).
func filterSQL(d engine, f query.Filter, common bool, arg func(any) string) []string {
	var where []string
	in := func(col string, vals []string) string {
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		return col + " IN (" + strings.Join(ph, ", ") + ")"
	}
	switch len(f.Statuses) {
	case 0:
	case 1:
		// the seed's (status, created_at) index serves the page in order
		where = append(where, "status = "+arg(string(f.Statuses[0])))
	default:
		where = append(where, in(d.unindexed("status"), strs(f.Statuses)))
	}
	if len(f.Sources) > 0 {
		// the source index would find the rows but not in order; walking created_at and
		// skipping the other sources stops after one page
		where = append(where, in(d.unindexed("source"), strs(f.Sources)))
	}
	if !f.CreatedFrom.IsZero() {
		where = append(where, "created_at >= "+arg(ts(f.CreatedFrom)))
	}
	if !f.CreatedTo.IsZero() {
		where = append(where, "created_at < "+arg(ts(f.CreatedTo)))
	}
	// the owner's index (owner_id, created_at) serves the page in order
	switch {
	case f.OwnerID != "":
		where = append(where, "owner_id = "+arg(f.OwnerID))
	case f.OwnerNone:
		where = append(where, "owner_id IS NULL")
	}
	if f.Overdue {
		// few leads wait for contact at a time: the partial index idx_leads_contact_due finds them
		where = append(where, "status = 'new' AND first_contacted_at IS NULL AND contact_due_at < "+arg(ts(f.OverdueAt)))
	}
	if f.Query != "" {
		where = append(where, d.searchCond(f.Query, common, arg))
	}
	return where
}

func strs[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}
