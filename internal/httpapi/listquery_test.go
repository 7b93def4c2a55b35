package httpapi

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
)

func mustQuery(t *testing.T, raw string) query.List {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := parseListQuery(v)
	if err != nil {
		t.Fatalf("ParseListQuery(%q): %v", raw, err)
	}
	return q
}

func TestParseListQuery(t *testing.T) {
	good := []struct {
		raw   string
		check func(q query.List) bool
	}{
		{"", func(q query.List) bool { return q.Limit == 50 && q.After == nil && q.Filter.Query == "" }},
		{"limit=1", func(q query.List) bool { return q.Limit == 1 }},
		{"limit=200", func(q query.List) bool { return q.Limit == 200 }},
		{"status=new,%20won,,new", func(q query.List) bool {
			return slices.Equal(q.Filter.Statuses, []lead.Status{lead.StatusNew, lead.StatusWon})
		}},
		{"created_to=2026-03-31", func(q query.List) bool {
			return q.Filter.CreatedTo.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
		}},
		{"created_from=2026-03-31T10:00:00%2B02:00", func(q query.List) bool {
			return q.Filter.CreatedFrom.Equal(time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC))
		}},
		{"created_from=2026-03-31&created_to=2026-03-31", func(q query.List) bool { return true }},
		{"q=%20%20", func(q query.List) bool { return q.Filter.Query == "" }},
	}
	for _, c := range good {
		q := mustQuery(t, c.raw)
		if !c.check(q) {
			t.Errorf("%q parsed as %+v", c.raw, q)
		}
	}
	valid := query.Cursor{CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), ID: uuid.NewString()}.String()
	bad := []struct{ raw, field, rule string }{
		{"status=open", "status", lead.RuleStatusEnum},
		{"status=new,Won", "status", lead.RuleStatusEnum},
		{"source=web", "source", lead.RuleSourceEnum},
		{"limit=0", "limit", query.RuleQueryParameter},
		{"limit=201", "limit", query.RuleQueryParameter},
		{"limit=-1", "limit", query.RuleQueryParameter},
		{"limit=ten", "limit", query.RuleQueryParameter},
		{"limit=1e3", "limit", query.RuleQueryParameter},
		{"created_from=yesterday", "created_from", query.RuleQueryParameter},
		{"created_to=2026-02-30", "created_to", query.RuleQueryParameter},
		{"created_to=2026-03-01T25:00:00Z", "created_to", query.RuleQueryParameter},
		{"created_from=2026-03-02&created_to=2026-03-01", "created_to", query.RuleQueryParameter},
		{"cursor=abc", "cursor", query.RuleQueryParameter},
		{"cursor=" + valid[:len(valid)-1], "cursor", query.RuleQueryParameter},
		{"cursor=" + valid + "A", "cursor", query.RuleQueryParameter},
		{"cursor=" + strings.Replace(valid, valid[:1], "B", 1), "cursor", query.RuleQueryParameter}, // version byte
		{"cursor=" + url.QueryEscape(strings.Repeat("/", 34)), "cursor", query.RuleQueryParameter},
		{"cursor=" + valid + "%3D", "cursor", query.RuleQueryParameter},
		{"q=" + strings.Repeat("x", 201), "q", lead.RuleFieldLength},
		{"q=a%0Ab", "q", lead.RuleInvalidCharacters},
		{"q=%FF", "q", lead.RuleInvalidCharacters},
	}
	for _, c := range bad {
		v, err := url.ParseQuery(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseListQuery(v)
		var de *lead.Error
		if !errors.As(err, &de) || de.Code != lead.CodeInvalid {
			t.Errorf("%q: error %v, want an invalid error", c.raw, err)
			continue
		}
		found := false
		for _, is := range de.Issues {
			found = found || is.Field == c.field && is.Rule == c.rule
		}
		if !found {
			t.Errorf("%q: issues %+v, want %s/%s", c.raw, de.Issues, c.field, c.rule)
		}
	}
	// every bad parameter is reported at once
	v, _ := url.ParseQuery("status=x&source=y&limit=0&cursor=z")
	_, err := parseListQuery(v)
	var de *lead.Error
	if !errors.As(err, &de) || len(de.Issues) != 4 {
		t.Fatalf("want four issues, got %v", err)
	}
	// a cursor survives its round trip
	c := query.Cursor{CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC), ID: uuid.NewString()}
	back, err := query.ParseCursor(c.String())
	if err != nil || !back.CreatedAt.Equal(c.CreatedAt) || back.ID != c.ID {
		t.Fatalf("round trip %+v → %+v, %v", c, back, err)
	}
}
