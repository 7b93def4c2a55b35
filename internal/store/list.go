package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/lead"
)

// List limits of GET /api/v1/leads.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
	// maxQueryLen bounds a search term; names and organizations are at most 200 characters.
	maxQueryLen = 200
)

// RuleQueryParameter names a malformed list parameter (limit, cursor, created_from,
// created_to) in a 422 problem. Unknown statuses and sources use the seed's enum rules.
const RuleQueryParameter = "query_parameter_validation"

// ListFilter selects leads for the list, the CSV export and (dates only) the statistics.
// Anonymized leads are included: they are still part of the pipeline and its numbers, and
// they carry no personal data any more (search finds them only by what erasure left).
type ListFilter struct {
	Statuses []lead.Status // any of; empty = all
	Sources  []lead.Source // any of; empty = all
	// Query matches leads whose "first_name last_name", email or organization_name contains
	// it, ignoring case. Trimmed, at most 200 characters, no control characters.
	Query       string
	CreatedFrom time.Time // inclusive; zero = unbounded
	CreatedTo   time.Time // exclusive; zero = unbounded
}

// ListQuery is a parsed GET /api/v1/leads query string.
type ListQuery struct {
	Filter ListFilter
	Limit  int
	After  *Cursor
}

// ParseListQuery reads the list's query parameters (status and source as comma lists or
// repeated, q, created_from, created_to, limit, cursor), reporting every bad one at once as
// a lead.Error with issues. The console and the API share it, so they accept the same URLs.
//
// Dates are RFC 3339 timestamps or YYYY-MM-DD days in UTC; both ends are inclusive:
// created_to=2026-03-31 includes that whole day, a timestamp includes that microsecond.
func ParseListQuery(v map[string][]string) (ListQuery, error) {
	var (
		q    = ListQuery{Limit: DefaultListLimit}
		errs lead.Result
	)
	fail := func(field, rule, msg string) {
		errs.Errors = append(errs.Errors, lead.Issue{Field: field, Rule: rule, Message: msg})
	}
	for _, raw := range commaList(v["status"]) {
		st, ok := lead.ParseStatus(raw)
		if !ok {
			fail("status", lead.RuleStatusEnum, "unknown status "+strconv.Quote(truncateRunes(raw, 40)))
			continue
		}
		q.Filter.Statuses = appendNew(q.Filter.Statuses, st)
	}
	for _, raw := range commaList(v["source"]) {
		src, ok := lead.ParseSource(raw)
		if !ok {
			fail("source", lead.RuleSourceEnum, "unknown source "+strconv.Quote(truncateRunes(raw, 40)))
			continue
		}
		q.Filter.Sources = appendNew(q.Filter.Sources, src)
	}
	q.Filter.Query = strings.TrimSpace(first(v["q"]))
	switch {
	case utf8.RuneCountInString(q.Filter.Query) > maxQueryLen:
		fail("q", lead.RuleFieldLength, "the search term is longer than 200 characters")
	case !utf8.ValidString(q.Filter.Query) || strings.ContainsFunc(q.Filter.Query, unicode.IsControl):
		fail("q", lead.RuleInvalidCharacters, "the search term contains invalid or control characters")
	}
	var ok bool
	if raw := first(v["created_from"]); raw != "" {
		if q.Filter.CreatedFrom, ok = parseDay(raw, false); !ok {
			fail("created_from", RuleQueryParameter, "created_from must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
	}
	if raw := first(v["created_to"]); raw != "" {
		if q.Filter.CreatedTo, ok = parseDay(raw, true); !ok {
			fail("created_to", RuleQueryParameter, "created_to must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
	}
	if f, t := q.Filter.CreatedFrom, q.Filter.CreatedTo; !f.IsZero() && !t.IsZero() && !f.Before(t) {
		fail("created_to", RuleQueryParameter, "created_to is before created_from")
	}
	if raw := first(v["limit"]); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxListLimit {
			fail("limit", RuleQueryParameter, "limit must be a whole number from 1 to 200")
		}
		q.Limit = n
	}
	if raw := first(v["cursor"]); raw != "" {
		c, err := ParseCursor(raw)
		if err != nil {
			fail("cursor", RuleQueryParameter, "cursor is not one this server issued; start again from the first page")
		}
		q.After = &c
	}
	if !errs.OK() {
		return ListQuery{}, lead.Invalid(errs)
	}
	return q, nil
}

// ParseDateRange reads created_from and created_to alone, as the statistics take them.
func ParseDateRange(v map[string][]string) (ListFilter, error) {
	q, err := ParseListQuery(map[string][]string{"created_from": v["created_from"], "created_to": v["created_to"]})
	return q.Filter, err
}

// parseDay reads an RFC 3339 timestamp or a YYYY-MM-DD day (UTC). As an upper bound it
// returns the exclusive end: the next day, or the next microsecond (stored precision).
func parseDay(raw string, upper bool) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, raw)
	step := time.Microsecond
	if err != nil {
		if t, err = time.Parse(time.DateOnly, raw); err != nil {
			return time.Time{}, false
		}
		step = 24 * time.Hour
	}
	t = t.UTC().Truncate(time.Microsecond)
	if upper {
		t = t.Add(step)
	}
	// ts() is fixed-width only for four-digit years; beyond that there is nothing to find
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// Cursor is a position in the newest-first order (created_at DESC, id DESC): the page after
// it starts with the lead just older. Leads created later sort before it, so paging is
// stable while new leads arrive.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

const cursorVersion = 1

// String encodes the cursor opaquely: base64url of a version byte, created_at in Unix
// microseconds and the 16 bytes of the id.
func (c Cursor) String() string {
	var b [25]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.CreatedAt.UnixMicro()))
	id, _ := uuid.Parse(c.ID)
	copy(b[9:], id[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor decodes a cursor from String; anything else is a lead.Error (CodeInvalid).
func ParseCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	bad := lead.Errorf(lead.CodeInvalid, "malformed cursor")
	if err != nil || len(b) != 25 || b[0] != cursorVersion {
		return Cursor{}, bad
	}
	t := time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return Cursor{}, bad
	}
	id, err := uuid.FromBytes(b[9:])
	if err != nil {
		return Cursor{}, bad
	}
	return Cursor{CreatedAt: t, ID: id.String()}, nil
}

// LeadPage is one page of the list; Next is nil on the last page.
type LeadPage struct {
	Items []lead.Lead
	Next  *Cursor
}

// ListLeads returns up to limit leads matching f, newest first, after the cursor (nil: from
// the newest). The cursor is a keyset position, so every page costs what the first does:
// the database walks (status, created_at) or created_at downwards from it and stops after
// limit+1 rows. A search term is looked up in the trigram index: SQLite reads its matches
// off the index newest first and stops likewise; PostgreSQL's planner picks between its
// index (rare terms) and the created_at walk (common ones).
func (s *Store) ListLeads(ctx context.Context, f ListFilter, limit int, after *Cursor) (LeadPage, error) {
	if limit < 1 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	page, err := s.listPage(ctx, f, limit+1, after)
	if err != nil {
		return LeadPage{}, s.mapErr(err)
	}
	if page.Items == nil {
		page.Items = []lead.Lead{} // an empty page is [] in JSON, never null, whichever path found it
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

// listPage returns up to k leads: limit+1, to know whether there is a next page.
func (s *Store) listPage(ctx context.Context, f ListFilter, k int, after *Cursor) (LeadPage, error) {
	common := false
	if f.Query != "" {
		items, ok, err := s.d.searchPage(ctx, s.read, f, after, k)
		if err != nil || ok {
			return LeadPage{Items: items}, err
		}
		if common, err = s.d.commonTerm(ctx, s.read, f.Query); err != nil {
			return LeadPage{}, err
		}
	}
	query, args := s.listSQL(leadColumns, f, after, k, common)
	rows, err := s.read.QueryContext(ctx, query, s.d.unpreparedArgs(args)...)
	if err != nil {
		return LeadPage{}, err
	}
	defer rows.Close()
	page := LeadPage{Items: make([]lead.Lead, 0, min(k, 64))}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return LeadPage{}, err
		}
		page.Items = append(page.Items, l)
	}
	return page, rows.Err()
}

// ExportLeads calls fn for every lead matching f, newest first, straight from the database
// cursor: one row in memory at a time, whatever the size. The whole export reads one
// snapshot. fn's *lead.Lead is reused between calls; an error from fn stops the export.
func (s *Store) ExportLeads(ctx context.Context, f ListFilter, fn func(*lead.Lead) error) error {
	query, args := s.listSQL(exportColumns(s.d), f, nil, 0, false)
	rows, err := s.read.QueryContext(ctx, query, s.d.unpreparedArgs(args)...)
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

// listSQL builds the list query selecting cols (leadColumns, in scanLead's order); limit 0
// means no limit. common is the dialect's verdict on the search term (dialect.commonTerm).
func (s *Store) listSQL(cols string, f ListFilter, after *Cursor, limit int, common bool) (string, []any) {
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
	where := filterSQL(s.d, g, common, arg)
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

// exportColumns is leadColumns with the timestamps read as the dialect reads them fastest
// in bulk (SQLite: as text; its driver would otherwise try one time layout after another
// on every value of a DATETIME column).
func exportColumns(d dialect) string {
	cols := strings.Split(leadColumns, ",")
	for i, c := range cols {
		switch c = strings.TrimSpace(c); c {
		case "consent_timestamp", "created_at", "updated_at", "anonymized_at":
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
func cursorSQL(after *Cursor, arg func(any) string) string {
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
func filterSQL(d dialect, f ListFilter, common bool, arg func(any) string) []string {
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

// escapeLike makes every character of s literal in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// caseVariants returns s with its non-ASCII letters in every case (SQLite's LIKE already
// folds ASCII), or nil when there would be more than 16.
func caseVariants(s string) []string {
	out := []string{""}
	for _, r := range s {
		forms := []rune{r}
		if r >= utf8.RuneSelf {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				forms = append(forms, f)
			}
		}
		var next []string
		for _, prefix := range out {
			for _, f := range forms {
				next = append(next, prefix+string(f))
			}
		}
		if len(next) > 16 {
			return nil
		}
		out = next
	}
	return out
}

// commaList splits repeated, comma-separated values, dropping blanks.
func commaList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func appendNew[T comparable](list []T, v T) []T {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}
