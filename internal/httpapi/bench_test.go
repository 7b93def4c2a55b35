package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// BenchmarkBookings measures POST /api/v1/bookings over real HTTP against a baseline measured
// in the same run: the bare insert of the same rows (lead + booking, one transaction each)
// through the same driver. Compare the two ops/s figures (SPEC §8):
//
//	go test ./internal/httpapi -run '^$' -bench Bookings -benchtime 10s
func BenchmarkBookings(b *testing.B) {
	for _, e := range storetest.Engines() {
		clients := []int{32}
		if e.Name == "sqlite" {
			clients = []int{8, 64}
		}
		for _, c := range clients {
			b.Run(fmt.Sprintf("%s/clients=%d/bare-insert", e.Name, c), func(b *testing.B) {
				s := storetest.MustOpen(b, e.URL(b), store.Options{})
				runClients(b, c, func(i int64) error { return bareInsert(s, i) })
			})
			b.Run(fmt.Sprintf("%s/clients=%d/api", e.Name, c), func(b *testing.B) {
				h := newHarness(b, e, func(d *httpapi.Deps) { d.Intake.RateLimit.Count = 0 })
				h.Client.Transport.(*http.Transport).MaxIdleConnsPerHost = c
				runClients(b, c, func(i int64) error {
					body, _ := json.Marshal(validBooking(fmt.Sprintf("bench%d@example.org", i)))
					req, _ := http.NewRequest("POST", h.URL+"/api/v1/bookings", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
					resp, err := h.Client.Do(req)
					if err != nil {
						return err
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 201 {
						return fmt.Errorf("status %d", resp.StatusCode)
					}
					return nil
				})
			})
		}
	}
}

// runClients runs b.N calls of op from c goroutines and reports ops/s and latency p50/p99.
func runClients(b *testing.B, c int, op func(i int64) error) {
	var next atomic.Int64
	lat := make([][]time.Duration, c)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range c {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99_ms")
	}
}

// bareInsert is the baseline: the same lead and booking rows, one transaction, no checks.
func bareInsert(s *store.Store, i int64) error {
	tx, err := s.DB().Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	leadID, bookingID := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	email := fmt.Sprintf("bare%d@example.org", i)
	if _, err := tx.Exec(`INSERT INTO leads (id, first_name, last_name, email, email_normalized, organization_name,
		organization_type, source, status, message, ip_address, consent_given, consent_timestamp, created_at, updated_at)
		VALUES ($1, 'Ada', 'Lovelace', $2, $2, 'Analytical Mentors', 'non-profit', 'demo_booking', 'new',
		'We run 40 mentors.', '10.0.0.1', TRUE, $3, $3, $3)`, leadID, email, now); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO bookings (id, lead_id, first_name, last_name, email, organization_name,
		organization_type, message, ip_address, consent_version, consent_timestamp, created_at)
		VALUES ($1, $2, 'Ada', 'Lovelace', $3, 'Analytical Mentors', 'non-profit', 'We run 40 mentors.', '10.0.0.1',
		'test-1', $4, $4)`, bookingID, leadID, email, now); err != nil {
		return err
	}
	return tx.Commit()
}
