package web

import (
	"errors"
	"net/http"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

type statsData struct {
	chrome
	From, To  string
	Errors    []string
	Stats     store.PipelineStats
	Funnel    funnel
	Statuses  []countRow
	Sources   []countRow
	Campaigns []countRow
}

type countRow struct {
	Label string
	Count int
}

// Stats is GET /console/stats: the pipeline funnel and the per-source and per-campaign
// tables, for leads created in an optional date range.
func (p *Pages) Stats(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	tr := p.tr(r)
	c := p.base(r, tr.T("stats.title"))
	c.Nav = "stats"
	d := statsData{chrome: c,
		From: v.Get("created_from"), To: v.Get("created_to")}
	f, err := parseDateRange(v)
	var de *lead.Error
	if errors.As(err, &de) && de.Code == lead.CodeInvalid {
		for _, is := range de.Issues {
			d.Errors = append(d.Errors, p.cat.Issue(tr.L, is))
		}
		d.Title = tr.T("error.prefix", d.Title)
		p.render(w, r, http.StatusUnprocessableEntity, "console_stats", d)
		return
	}
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	st, err := p.cfg.Store.Stats(r.Context(), f)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	d.Stats = st
	d.Funnel = newFunnel(tr, st)
	for _, s := range lead.Statuses {
		d.Statuses = append(d.Statuses, countRow{statusLabel(tr, s), st.ByStatus[s]})
	}
	for _, s := range lead.Sources {
		d.Sources = append(d.Sources, countRow{sourceLabel(tr, s), st.BySource[s]})
	}
	for _, c := range st.BookingsByCampaign {
		label := tr.T("stats.no_campaign")
		if c.UTMCampaign != nil {
			label = *c.UTMCampaign
		}
		d.Campaigns = append(d.Campaigns, countRow{label, c.Bookings})
	}
	p.render(w, r, http.StatusOK, "console_stats", d)
}

// funnel is the geometry of the inline SVG funnel chart: one centred bar per pipeline
// stage, as wide as the share of leads that reached it. Only presentation attributes
// (x, y, width, fill), no style attributes: the CSP forbids inline styles.
type funnel struct {
	Width, Height  int
	LabelX         int // right edge of the stage names
	ValueX         int // left edge of the counts
	TrackX, TrackW int // the full-width track behind each bar
	Bars           []funnelBar
}

type funnelBar struct {
	Label      string
	Count      int
	Conversion string // from the stage before, "" for the first
	X, Y, W, H int
	TextY      int
	Fill       string
}

// funnelFills shade the stages from light to the brand colour; all are dark enough
// against white to be seen (the numbers are written beside the bars, not on them).
var funnelFills = []string{"#6fa8c4", "#5f9bba", "#508eb0", "#4181a5", "#33749a", "#26678e", "#1d5c7a", "#1b6b46"}

func newFunnel(tr i18n.Printer, st store.PipelineStats) funnel {
	const (
		rowH, barH    = 38, 28
		areaX, areaW  = 170, 400
		width, labelX = 720, 158
	)
	stages := []lead.Status{lead.StatusNew, lead.StatusContacted, lead.StatusQualified, lead.StatusDemoScheduled,
		lead.StatusDemoCompleted, lead.StatusProposalSent, lead.StatusNegotiation, lead.StatusWon}
	f := funnel{Width: width, Height: len(stages)*rowH + 8, LabelX: labelX, ValueX: areaX + areaW + 14,
		TrackX: areaX, TrackW: areaW}
	top := max(st.Reached[lead.StatusNew], 1)
	for i, s := range stages {
		n := st.Reached[s]
		w := n * areaW / top
		if n > 0 && w < 3 {
			w = 3
		}
		b := funnelBar{Label: statusLabel(tr, s), Count: n, X: areaX + (areaW-w)/2, Y: 4 + i*rowH, W: w, H: barH,
			TextY: 4 + i*rowH + barH/2 + 5, Fill: funnelFills[i%len(funnelFills)]}
		if i > 0 && i-1 < len(st.Conversion) && st.Conversion[i-1].Rate != nil {
			b.Conversion = percent(tr.L, *st.Conversion[i-1].Rate)
		}
		f.Bars = append(f.Bars, b)
	}
	return f
}
