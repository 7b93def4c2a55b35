package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
)

// PipelineStats is GET /api/v1/stats/pipeline over the leads created in a date range.
type PipelineStats struct {
	Total    int                 `json:"total"`
	ByStatus map[lead.Status]int `json:"by_status"` // all ten statuses, zeros included
	BySource map[lead.Source]int `json:"by_source"` // all ten sources, zeros included
	// BookingsByCampaign counts the bookings made in the range per utm_campaign (null: none
	// given), most bookings first.
	BookingsByCampaign []CampaignBookings `json:"bookings_by_campaign"`
	// Reached counts, per pipeline stage, the leads that ever reached it (see Stats).
	Reached    map[lead.Status]int `json:"reached"`
	Conversion []StageConversion   `json:"conversion"`
	// DemoNoShows counts the no-show demos of the leads in the range per owner (§13).
	DemoNoShows []OwnerNoShows `json:"demo_no_shows"`
	// SpeedToLead: how fast the leads were first contacted (SPEC §11, speed.go).
	SpeedToLead SpeedStats `json:"speed_to_lead"`
}

// CampaignBookings is one utm_campaign's number of bookings.
type CampaignBookings struct {
	UTMCampaign *string `json:"utm_campaign"`
	Bookings    int     `json:"bookings"`
}

// StageConversion is the share of the leads that reached From which went on to reach To,
// the next stage; Rate is null when no lead reached From.
type StageConversion struct {
	From        lead.Status `json:"from"`
	To          lead.Status `json:"to"`
	ReachedFrom int         `json:"reached_from"`
	ReachedTo   int         `json:"reached_to"`
	Rate        *float64    `json:"rate"`
}

// Stats computes the pipeline statistics of the leads created in [f.CreatedFrom,
// f.CreatedTo) (zero bounds are open) and of the bookings made in that range. Only the
// dates of f are used.
//
// Conversion. A lead "reached" pipeline stage S (new … won) when S is at or before its
// furthest stage, which is:
//   - its current status, when that is a pipeline stage. Forward moves go one step at a
//     time and nothing moves back except to lost or disqualified, so a lead at stage S
//     passed through every earlier stage — or was created or imported directly at S, and
//     then counts as having passed them too ("at or beyond");
//   - for a lead now lost or disqualified: the furthest pipeline stage it left, i.e. the
//     highest "from" of its status_changed events (won → lost reached won). One created
//     directly as lost or disqualified, with no such event, reached no stage.
//
// For consecutive stages S → T, the conversion is reached(T) / reached(S).
func (s *Store) Stats(ctx context.Context, f query.Filter) (PipelineStats, error) {
	st := PipelineStats{ByStatus: map[lead.Status]int{}, BySource: map[lead.Source]int{},
		BookingsByCampaign: []CampaignBookings{}, Reached: map[lead.Status]int{}}
	for _, x := range lead.Statuses {
		st.ByStatus[x] = 0
	}
	for _, x := range lead.Sources {
		st.BySource[x] = 0
	}
	dates := query.Filter{CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo}

	// furthest[i] counts the leads whose furthest stage is lead.Pipeline[i]
	furthest := make([]int, len(lead.Pipeline))
	err := s.eachRow(ctx, dates, "SELECT status, source, COUNT(*) FROM leads", "GROUP BY status, source",
		func(rows *sql.Rows) error {
			var status, source string
			var n int
			if err := rows.Scan(&status, &source, &n); err != nil {
				return err
			}
			st.Total += n
			st.ByStatus[lead.Status(status)] += n
			st.BySource[lead.Source(source)] += n
			if i := slices.Index(lead.Pipeline, lead.Status(status)); i >= 0 {
				furthest[i] += n
			}
			return nil
		})
	if err != nil {
		return st, err
	}

	from := s.e.jsonText("e.details", "from")
	left := `SELECT (SELECT MAX(` + stageIndexSQL(from) + `) FROM lead_events e
	WHERE e.lead_id = leads.id AND e.type = '` + lead.EventStatusChanged + `') AS furthest
FROM leads`
	err = s.eachRow(ctx, query.Filter{Statuses: []lead.Status{lead.StatusLost, lead.StatusDisqualified},
		CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo},
		"SELECT furthest, COUNT(*) FROM ("+left, ") x GROUP BY furthest",
		func(rows *sql.Rows) error {
			var i sql.NullInt64
			var n int
			if err := rows.Scan(&i, &n); err != nil {
				return err
			}
			if i.Valid && i.Int64 >= 0 && int(i.Int64) < len(furthest) {
				furthest[i.Int64] += n
			}
			return nil
		})
	if err != nil {
		return st, err
	}
	reached := 0
	for i := len(lead.Pipeline) - 1; i >= 0; i-- {
		reached += furthest[i]
		st.Reached[lead.Pipeline[i]] = reached
	}
	for i := 0; i+1 < len(lead.Pipeline); i++ {
		c := StageConversion{From: lead.Pipeline[i], To: lead.Pipeline[i+1],
			ReachedFrom: st.Reached[lead.Pipeline[i]], ReachedTo: st.Reached[lead.Pipeline[i+1]]}
		if c.ReachedFrom > 0 {
			r := float64(c.ReachedTo) / float64(c.ReachedFrom)
			c.Rate = &r
		}
		st.Conversion = append(st.Conversion, c)
	}

	// bookings are filtered by their own created_at, with the same bounds
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := "SELECT utm_campaign, COUNT(*) FROM bookings"
	if where := filterSQL(s.e, dates, false, arg); len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.read.QueryContext(ctx, q+" GROUP BY utm_campaign", args...)
	if err != nil {
		return st, s.mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CampaignBookings
		var name sql.NullString
		if err := rows.Scan(&name, &c.Bookings); err != nil {
			return st, s.mapErr(err)
		}
		c.UTMCampaign = strPtr(name)
		st.BookingsByCampaign = append(st.BookingsByCampaign, c)
	}
	if err := rows.Err(); err != nil {
		return st, s.mapErr(err)
	}
	// most bookings first, then by name, "no campaign" last among equals (the engines
	// order NULLs differently, so Go sorts)
	slices.SortFunc(st.BookingsByCampaign, func(a, b CampaignBookings) int {
		if c := cmp.Compare(b.Bookings, a.Bookings); c != 0 {
			return c
		}
		if a.UTMCampaign == nil || b.UTMCampaign == nil {
			return cmp.Compare(nilLast(a.UTMCampaign), nilLast(b.UTMCampaign))
		}
		return strings.Compare(*a.UTMCampaign, *b.UTMCampaign)
	})
	st.DemoNoShows, err = s.demoNoShows(ctx, f.CreatedFrom, f.CreatedTo)
	if err != nil {
		return st, err
	}
	st.SpeedToLead, err = s.speedToLead(ctx, f)
	return st, err
}

// eachRow runs head + WHERE (f on leads) + tail and calls fn for every row.
func (s *Store) eachRow(ctx context.Context, f query.Filter, head, tail string, fn func(*sql.Rows) error) error {
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	q := head
	if where := filterSQL(s.e, f, false, arg); len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.read.QueryContext(ctx, q+" "+tail, args...)
	if err != nil {
		return s.mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return s.mapErr(err)
		}
	}
	return s.mapErr(rows.Err())
}

// stageIndexSQL maps a status expression to its position in the pipeline, NULL for lost,
// disqualified and anything else.
func stageIndexSQL(expr string) string {
	var b strings.Builder
	b.WriteString("CASE " + expr)
	for i, st := range lead.Pipeline {
		b.WriteString(" WHEN '" + string(st) + "' THEN " + strconv.Itoa(i))
	}
	b.WriteString(" END")
	return b.String()
}

func nilLast(p *string) int {
	if p == nil {
		return 1
	}
	return 0
}
