package metrics

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storeCollector reads the email queue and the connection pools when scraped, so that the
// figures are current without a background loop.
type storeCollector struct {
	src     Source
	timeout time.Duration

	queue, queueUp                            *prometheus.Desc
	maxOpen, open, inUse, idle, waits, waited *prometheus.Desc
}

func newStoreCollector(src Source, timeout time.Duration) *storeCollector {
	pool := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"pool"}, nil)
	}
	return &storeCollector{
		src: src, timeout: timeout,
		queue: prometheus.NewDesc("leads_email_queue_jobs", "Confirmation email jobs in the queue table, by status.",
			[]string{"status"}, nil),
		queueUp: prometheus.NewDesc("leads_email_queue_up",
			"1 when the last scrape could read the email queue depth within its timeout, else 0.", nil, nil),
		maxOpen: pool("leads_db_max_open_connections", "Maximum number of open connections of the pool."),
		open:    pool("leads_db_open_connections", "Open connections of the pool (in use and idle)."),
		inUse:   pool("leads_db_in_use_connections", "Connections of the pool in use."),
		idle:    pool("leads_db_idle_connections", "Idle connections of the pool."),
		waits:   pool("leads_db_wait_count_total", "Times a caller waited for a connection of the pool."),
		waited:  pool("leads_db_wait_duration_seconds_total", "Total time callers waited for a connection of the pool."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queue, c.queueUp, c.maxOpen, c.open, c.inUse, c.idle, c.waits, c.waited} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.src.PoolStats() {
		s := p.Stats
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections), p.Name)
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections), p.Name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), p.Name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle), p.Name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount), p.Name)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, s.WaitDuration.Seconds(), p.Name)
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	counts, err := c.src.EmailJobCounts(ctx)
	if err != nil {
		// no depth rather than a wrong one; the up gauge says why it is missing
		ch <- prometheus.MustNewConstMetric(c.queueUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.queueUp, prometheus.GaugeValue, 1)
	for _, st := range jobStatuses {
		ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(counts[st]), st)
	}
	for st, n := range counts { // a status added after this code was written
		if !slices.Contains(jobStatuses, st) {
			ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(n), st)
		}
	}
}
