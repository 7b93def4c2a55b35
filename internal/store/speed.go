package store

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead/query"
)

// SpeedToLead is how fast leads were first contacted (SPEC §11).
type SpeedToLead struct {
	Leads     int `json:"leads"`
	Contacted int `json:"contacted"`  // with a first_contacted_at
	WithinSLA int `json:"within_sla"` // contacted by their contact_due_at
	// MedianHours and P90Hours are over the contacted leads' hours from creation to first
	// contact (nearest rank); nil when none was contacted.
	MedianHours *float64 `json:"median_hours"`
	P90Hours    *float64 `json:"p90_hours"`
}

// OwnerSpeed is one owner's SpeedToLead; OwnerID and Name are nil for the leads without one.
type OwnerSpeed struct {
	OwnerID *string `json:"owner_id"`
	Name    *string `json:"name"`
	SpeedToLead
}

// SpeedStats is speed_to_lead of GET /api/v1/stats/pipeline.
type SpeedStats struct {
	Overall SpeedToLead  `json:"overall"`
	ByOwner []OwnerSpeed `json:"by_owner"` // by name, the leads without an owner last
}

// speedToLead computes SpeedStats over the leads created in f's dates: the counts in SQL,
// the percentiles in Go over the contacted leads only.
func (s *Store) speedToLead(ctx context.Context, f query.Filter) (SpeedStats, error) {
	dates := query.Filter{CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo}
	type acc struct {
		OwnerSpeed
		hours []float64
	}
	byOwner := map[string]*acc{}
	get := func(owner, name sql.NullString) *acc {
		a := byOwner[owner.String]
		if a == nil {
			a = &acc{OwnerSpeed: OwnerSpeed{OwnerID: strPtr(owner), Name: strPtr(name)}}
			byOwner[owner.String] = a
		}
		return a
	}
	err := s.eachRow(ctx, dates, `SELECT l.owner_id, m.name, l.n FROM (SELECT owner_id, COUNT(*) AS n FROM leads`,
		`GROUP BY owner_id) l LEFT JOIN staff m ON m.id = l.owner_id`, func(rows *sql.Rows) error {
			var owner, name sql.NullString
			var n int
			if err := rows.Scan(&owner, &name, &n); err != nil {
				return err
			}
			get(owner, name).Leads = n
			return nil
		})
	if err != nil {
		return SpeedStats{}, err
	}
	err = s.eachRow(ctx, dates, `SELECT l.owner_id, m.name, l.created_at, l.first_contacted_at, l.contact_due_at FROM (
	SELECT owner_id, created_at, first_contacted_at, contact_due_at FROM leads`,
		`) l LEFT JOIN staff m ON m.id = l.owner_id WHERE l.first_contacted_at IS NOT NULL`, func(rows *sql.Rows) error {
			var owner, name sql.NullString
			var created, contacted time.Time
			var due nullTime
			if err := rows.Scan(&owner, &name, (*dbTime)(&created), (*dbTime)(&contacted), &due); err != nil {
				return err
			}
			a := get(owner, name)
			a.Contacted++
			if due.Valid && !contacted.After(due.Time) {
				a.WithinSLA++
			}
			a.hours = append(a.hours, contacted.Sub(created).Hours())
			return nil
		})
	if err != nil {
		return SpeedStats{}, err
	}
	out := SpeedStats{ByOwner: []OwnerSpeed{}}
	var all []float64
	for _, a := range byOwner {
		a.MedianHours, a.P90Hours = percentile(a.hours, 0.5), percentile(a.hours, 0.9)
		out.Overall.Leads += a.Leads
		out.Overall.Contacted += a.Contacted
		out.Overall.WithinSLA += a.WithinSLA
		all = append(all, a.hours...)
		out.ByOwner = append(out.ByOwner, a.OwnerSpeed)
	}
	out.Overall.MedianHours, out.Overall.P90Hours = percentile(all, 0.5), percentile(all, 0.9)
	slices.SortFunc(out.ByOwner, func(a, b OwnerSpeed) int {
		if a.OwnerID == nil || b.OwnerID == nil {
			return cmp.Compare(nilLast(a.OwnerID), nilLast(b.OwnerID))
		}
		return cmp.Or(strings.Compare(*a.Name, *b.Name), strings.Compare(*a.OwnerID, *b.OwnerID))
	})
	return out, nil
}

// percentile is the nearest-rank p-quantile of v in hours, to two decimals; nil for none.
func percentile(v []float64, p float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	i := max(int(math.Ceil(p*float64(len(v))))-1, 0)
	h := math.Round(v[i]*100) / 100
	return &h
}
