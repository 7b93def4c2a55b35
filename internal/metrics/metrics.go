// Package metrics is the service's Prometheus instrumentation. Each server builds its own
// registry with New (never the global default one), so that several servers in one process
// — tests, the benchmark — keep separate counts. docs/metrics.md lists every metric.
package metrics

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Source is what the scrape-time collectors read: *store.Store.
type Source interface {
	EmailJobCounts(ctx context.Context) (map[string]int, error)
	PoolStats() []store.PoolStat
}

// Options tune New; the zero value is usable.
type Options struct {
	// QueueTimeout bounds the email queue query of one scrape (1s), so that a slow or
	// unreachable database cannot hang /metrics.
	QueueTimeout time.Duration
}

// Metrics holds the registry and the collectors the service records into. Its methods are
// safe for concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	bookings *prometheus.CounterVec
	refusals *prometheus.CounterVec
	emails   *prometheus.CounterVec
	spam     *prometheus.CounterVec
	handler  http.Handler
}

// Booking and delivery outcomes that are exported from the start (at 0), so that rates
// and alerts work before the first event.
var (
	bookingOutcomes = []string{"accepted", "deduplicated", "rate_limited", "honeypot", "replayed"}
	emailOutcomes   = []string{"sent", "retry", "failed"}
	jobStatuses     = []string{"pending", "running", "done", "failed", "cancelled"}
	spamEvents      = []string{"held", "released", "discarded", "blocked"}
)

// New builds a registry with the service's collectors, the Go runtime and process
// collectors, and, when src is not nil, the email queue depth and connection pool stats
// read from src at each scrape.
func New(src Source, opts Options) *Metrics {
	if opts.QueueTimeout <= 0 {
		opts.QueueTimeout = time.Second
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leads_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leads_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leads_bookings_total",
			Help: "Public demo bookings by outcome: accepted (new lead), deduplicated (linked to a known lead), rate_limited, honeypot, replayed (Idempotency-Key).",
		}, []string{"outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leads_booking_refusals_total",
			Help: "Validation rules broken by refused bookings; a booking breaking two rules counts once under each.",
		}, []string{"rule"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leads_email_deliveries_total",
			Help: "Confirmation email delivery attempts by outcome: sent, retry (failed, will be retried), failed (given up).",
		}, []string{"outcome"}),
		spam: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leads_spam_total",
			Help: "Spam defence: public bookings held for review or blocked (blocklist), and held bookings released or discarded by staff.",
		}, []string{"event"}),
	}
	for _, o := range spamEvents {
		m.spam.WithLabelValues(o)
	}
	for _, o := range bookingOutcomes {
		m.bookings.WithLabelValues(o)
	}
	for _, o := range emailOutcomes {
		m.emails.WithLabelValues(o)
	}
	m.reg.MustRegister(m.requests, m.latency, m.bookings, m.refusals, m.emails, m.spam,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src != nil {
		m.reg.MustRegister(newStoreCollector(src, opts.QueueTimeout))
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// a failing collector must not take the whole page down with it
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
	return m
}

// Registry is the registry behind Handler, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveRequest records one answered request. route is the mux pattern ("GET /x/{id}"),
// never the raw path, so the label set stays small.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
}

// ObserveBooking is intake.Service.Observe: "accepted", "deduplicated", "rate_limited",
// "honeypot", "replayed" or "refused:<rule>"; and the spam defence's "held", "blocked",
// "released" and "discarded" (leads_spam_total).
func (m *Metrics) ObserveBooking(outcome string) {
	if m == nil {
		return
	}
	if rule, ok := strings.CutPrefix(outcome, "refused:"); ok {
		m.refusals.WithLabelValues(rule).Inc()
		return
	}
	if slices.Contains(spamEvents, outcome) {
		m.spam.WithLabelValues(outcome).Inc()
		return
	}
	m.bookings.WithLabelValues(outcome).Inc()
}

// ObserveEmail is jobs.EmailWorker.Observe: "sent", "retry" or "failed".
func (m *Metrics) ObserveEmail(outcome string) {
	if m == nil {
		return
	}
	m.emails.WithLabelValues(outcome).Inc()
}
