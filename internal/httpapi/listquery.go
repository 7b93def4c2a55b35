package httpapi

import (
	"net/url"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
)

// listParams reads the lead list's parameters from a query string (query.Params says how
// each is written; query.Parse checks them).
func listParams(v url.Values) query.Params {
	return query.Params{Status: v["status"], Source: v["source"], Q: v.Get("q"),
		CreatedFrom: v.Get("created_from"), CreatedTo: v.Get("created_to"), Limit: v.Get("limit"), Cursor: v.Get("cursor"),
		OwnerID: v.Get(lead.FieldOwnerID), Overdue: v.Get("overdue")}
}

// parseListQuery reads and checks GET /api/v1/leads's query string (and the export's).
func parseListQuery(v url.Values) (query.List, error) { return query.Parse(listParams(v)) }

// parseDateRange reads and checks created_from and created_to, as the statistics take them.
func parseDateRange(v url.Values) (query.Filter, error) {
	return query.ParseDates(v.Get("created_from"), v.Get("created_to"))
}
