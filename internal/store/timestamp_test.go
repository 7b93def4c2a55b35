package store

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseTSAgreesWithTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var inputs []string
	for range 10000 {
		inputs = append(inputs, ts(time.Unix(r.Int64N(1<<35)-(1<<34), r.Int64N(1e9))))
	}
	inputs = append(inputs,
		"2026-11-25T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z", "2024-02-29T12:00:00.000000Z",
		"2026-02-29T12:00:00.000000Z", "2026-02-31T12:00:00.000000Z", "2026-13-01T00:00:00.000000Z",
		"2026-00-01T00:00:00.000000Z", "2026-01-00T00:00:00.000000Z", "2026-01-01T24:00:00.000000Z",
		"2026-01-01T00:60:00.000000Z", "2026-01-01T00:00:60.000000Z", "2026-01-01T00:00:00.00000aZ",
		"2026-01-01 00:00:00.000000Z", "2026-01-01T00:00:00.000000+", "+026-01-01T00:00:00.000000Z",
		"2026-01-01T00:00:00.000000", "2026-01-01T00:00:00Z", "", "2026-1-01T00:00:00.0000000Z")
	for _, s := range inputs {
		want, err := time.Parse(tsLayout, s)
		got, ok := parseTS(s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Errorf("%q: parseTS %v %v, time.Parse %v %v", s, got, ok, want, err)
		}
	}
	var nt nullTime
	if err := nt.Scan("2026-11-25 10:00:00+01:00"); err != nil || !nt.Time.Equal(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("other layouts still read: %v %v", nt, err)
	}
}

func BenchmarkParseTS(b *testing.B) {
	s := ts(time.Date(2026, 11, 25, 10, 11, 12, 123456000, time.UTC))
	b.Run("parseTS", func(b *testing.B) {
		for b.Loop() {
			parseTS(s)
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		for b.Loop() {
			time.Parse(time.RFC3339Nano, s)
		}
	})
}
