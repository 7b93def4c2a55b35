package generate_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/generate"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// BenchmarkGenerate measures the data generator (issue: 1,000,000 leads well under a minute
// on SQLite): each iteration fills a fresh database with LEADS_BENCH_GENERATE leads
// (default 100,000) and reports leads/s.
//
//	LEADS_BENCH_GENERATE=1000000 go test ./internal/generate/ -run '^$' -bench Generate -benchtime 1x
func BenchmarkGenerate(b *testing.B) {
	n := 100_000
	if v := os.Getenv("LEADS_BENCH_GENERATE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("LEADS_BENCH_GENERATE=%q: want a positive count", v)
		}
	}
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				s := storetest.MustOpen(b, e.URL(b), store.Options{})
				b.StartTimer()
				start := time.Now()
				if err := generate.Leads(context.Background(), s, n, generate.Options{Seed: int64(i + 1)}); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "leads/s")
		})
	}
}
