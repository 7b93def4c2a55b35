// Package query is the lead list's query as a value: which leads (Filter), how many and
// from where (a Cursor), and the checks of its parameters. The edges read the parameters
// from the URL; the store runs a checked List.
package query

import (
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
	DefaultLimit = 50
	MaxLimit     = 200
	// maxQueryLen bounds a search term; names and organizations are at most 200 characters.
	maxQueryLen = 200
)

// RuleQueryParameter names a malformed list parameter (limit, cursor, created_from,
// created_to) in a 422 problem. Unknown statuses and sources use the seed's enum rules.
const RuleQueryParameter = "query_parameter_validation"

// Filter selects leads for the list, the CSV export and (dates only) the statistics.
// Anonymized leads are included: they are still part of the pipeline and its numbers, and
// they carry no personal data any more (search finds them only by what erasure left).
type Filter struct {
	Statuses []lead.Status // any of; empty = all
	Sources  []lead.Source // any of; empty = all
	// Query matches leads whose "first_name last_name", email or organization_name contains
	// it, ignoring case. Trimmed, at most 200 characters, no control characters.
	Query       string
	CreatedFrom time.Time // inclusive; zero = unbounded
	CreatedTo   time.Time // exclusive; zero = unbounded
	// OwnerID keeps the leads of this member (owner_id=<id>); OwnerNone those without an
	// owner (owner_id=none). SPEC §11.
	OwnerID   string
	OwnerNone bool
	// Overdue keeps the leads overdue at OverdueAt (the store's clock when zero): still new,
	// never contacted, contact_due_at passed (overdue=true).
	Overdue   bool
	OverdueAt time.Time
}

// List is a parsed list query: which leads, how many, from where.
type List struct {
	Filter Filter
	Limit  int
	After  *Cursor
}

// Params are the list's parameters as the client wrote them: status and source as comma
// lists or repeated, the others once (empty: absent). The edges read them from the query
// string (httpapi.ListParams); Parse checks them.
type Params struct {
	Status, Source                           []string
	Q, CreatedFrom, CreatedTo, Limit, Cursor string
	OwnerID, Overdue                         string // owner_id=<id>|none, overdue=true|false
}

// Parse checks the list's parameters, reporting every bad one at once as a lead.Error
// with issues. The console and the API share it, so they accept the same URLs.
//
// Dates are RFC 3339 timestamps or YYYY-MM-DD days in UTC; both ends are inclusive:
// created_to=2026-03-31 includes that whole day, a timestamp includes that microsecond.
func Parse(p Params) (List, error) {
	var (
		q    = List{Limit: DefaultLimit}
		errs lead.Result
	)
	fail := func(field, rule, msg string) {
		errs.Errors = append(errs.Errors, lead.Issue{Field: field, Rule: rule, Message: msg})
	}
	for _, raw := range commaList(p.Status) {
		st, ok := lead.ParseStatus(raw)
		if !ok {
			fail("status", lead.RuleStatusEnum, "unknown status "+strconv.Quote(truncateRunes(raw, 40)))
			continue
		}
		q.Filter.Statuses = appendNew(q.Filter.Statuses, st)
	}
	for _, raw := range commaList(p.Source) {
		src, ok := lead.ParseSource(raw)
		if !ok {
			fail("source", lead.RuleSourceEnum, "unknown source "+strconv.Quote(truncateRunes(raw, 40)))
			continue
		}
		q.Filter.Sources = appendNew(q.Filter.Sources, src)
	}
	q.Filter.Query = strings.TrimSpace(p.Q)
	switch {
	case utf8.RuneCountInString(q.Filter.Query) > maxQueryLen:
		fail("q", lead.RuleFieldLength, "the search term is longer than 200 characters")
	case !utf8.ValidString(q.Filter.Query) || strings.ContainsFunc(q.Filter.Query, unicode.IsControl):
		fail("q", lead.RuleInvalidCharacters, "the search term contains invalid or control characters")
	}
	var ok bool
	if raw := p.CreatedFrom; raw != "" {
		if q.Filter.CreatedFrom, ok = parseDay(raw, false); !ok {
			fail("created_from", RuleQueryParameter, "created_from must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
	}
	if raw := p.CreatedTo; raw != "" {
		if q.Filter.CreatedTo, ok = parseDay(raw, true); !ok {
			fail("created_to", RuleQueryParameter, "created_to must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
	}
	if f, t := q.Filter.CreatedFrom, q.Filter.CreatedTo; !f.IsZero() && !t.IsZero() && !f.Before(t) {
		fail("created_to", RuleQueryParameter, "created_to is before created_from")
	}
	switch raw := strings.TrimSpace(p.OwnerID); {
	case raw == "":
	case raw == "none":
		q.Filter.OwnerNone = true
	default:
		if id, err := uuid.Parse(raw); err == nil && len(raw) == 36 {
			q.Filter.OwnerID = id.String()
		} else {
			fail(lead.FieldOwnerID, RuleQueryParameter, "owner_id must be a member's id or none")
		}
	}
	switch p.Overdue {
	case "", "false":
	case "true":
		q.Filter.Overdue = true
	default:
		fail("overdue", RuleQueryParameter, "overdue must be true or false")
	}
	if raw := p.Limit; raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxLimit {
			fail("limit", RuleQueryParameter, "limit must be a whole number from 1 to 200")
		}
		q.Limit = n
	}
	if raw := p.Cursor; raw != "" {
		c, err := ParseCursor(raw)
		if err != nil {
			fail("cursor", RuleQueryParameter, "cursor is not one this server issued; start again from the first page")
		}
		q.After = &c
	}
	if !errs.OK() {
		return List{}, lead.Invalid(errs)
	}
	return q, nil
}

// ParseDates checks created_from and created_to alone, as the statistics take them.
func ParseDates(from, to string) (Filter, error) {
	q, err := Parse(Params{CreatedFrom: from, CreatedTo: to})
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
	// the store's timestamps are fixed-width only for four-digit years; beyond that there is nothing to find
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

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}
