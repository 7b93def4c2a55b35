package web

import (
	"net/url"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
)

// parseListQuery reads and checks the console's lead list query string: the parameters of
// GET /api/v1/leads, checked by the same query.Parse, so both accept the same URLs.
func parseListQuery(v url.Values) (query.List, error) {
	return query.Parse(query.Params{Status: v["status"], Source: v["source"], Q: v.Get("q"),
		CreatedFrom: v.Get("created_from"), CreatedTo: v.Get("created_to"), Limit: v.Get("limit"), Cursor: v.Get("cursor"),
		OwnerID: v.Get(lead.FieldOwnerID), Overdue: v.Get("overdue")})
}

// parseDateRange reads and checks created_from and created_to, as the statistics take them.
func parseDateRange(v url.Values) (query.Filter, error) {
	return query.ParseDates(v.Get("created_from"), v.Get("created_to"))
}
