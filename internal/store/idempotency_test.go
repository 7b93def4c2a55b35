package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"slices"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/pressly/goose/v3"
)

var phoneWarning = []lead.Issue{{Field: "phone", Rule: lead.RulePhoneFormat,
	Message: "Phone does not look like a valid phone number; it is kept as given.", Severity: lead.SeverityWarning}}

func sameIssues(a, b []lead.Issue) bool {
	return slices.EqualFunc(a, b, func(x, y lead.Issue) bool { return x.Field == y.Field && x.Rule == y.Rule && x.Message == y.Message })
}

// sameWarnings is sameIssues for a result's warnings, which are warnings.
func sameWarnings(got, want []lead.Issue) bool {
	return sameIssues(got, want) && !slices.ContainsFunc(got, func(i lead.Issue) bool { return i.Severity != lead.SeverityWarning })
}

// An Idempotency-Key keeps the booking's result (its id and warnings), not a rendered
// answer, and its replay gives that result back.
func TestIdempotencyKeepsTheResult(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		p := params(booking("result@example.org"), "192.0.2.60")
		p.IdempotencyKey, p.BodyHash, p.Warnings = "result-key", "json:r", phoneWarning
		first, err := s.Book(ctx, p)
		if err != nil || first.Replayed || !sameWarnings(first.Warnings, phoneWarning) {
			t.Fatalf("first booking %+v, %v", first, err)
		}
		var id, warnings string
		if err := s.DB().QueryRow(`SELECT booking_id, warnings FROM idempotency_keys`).Scan(&id, &warnings); err != nil {
			t.Fatal(err)
		}
		var stored []lead.Issue
		if id != first.BookingID || json.Unmarshal([]byte(warnings), &stored) != nil || !sameIssues(stored, phoneWarning) {
			t.Fatalf("idempotency record (%s, %s), want (%s, the warnings)", id, warnings, first.BookingID)
		}
		p.Warnings = nil // a replay answers with what was stored, not with what it is given
		again, err := s.Book(ctx, p)
		if err != nil || !again.Replayed || again.BookingID != first.BookingID || !sameWarnings(again.Warnings, phoneWarning) {
			t.Fatalf("replay %+v, %v; want booking %s with the stored warnings", again, err, first.BookingID)
		}

		// without warnings the record holds an empty list, and the replay gives one back
		q := params(booking("plain@example.org"), "192.0.2.61")
		q.IdempotencyKey = "plain-key"
		if _, err := s.Book(ctx, q); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Book(ctx, q); err != nil || !r.Replayed || r.Warnings == nil || len(r.Warnings) != 0 {
			t.Fatalf("replay without warnings %+v, %v; want an empty list", r, err)
		}
	})
}

// Keys stored before migration 00010 (a rendered answer) keep their replay.
func TestIdempotencyKeysOfTheOldFormatSurviveTheMigration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s, err := store.Open(ctx, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		dialect := goose.DialectPostgres
		if e.Name == "sqlite" {
			dialect = goose.DialectSQLite3
		}
		sub, err := fs.Sub(store.Migrations(), "migrations/"+e.Name)
		if err != nil {
			t.Fatal(err)
		}
		g, err := goose.NewProvider(dialect, s.DB(), sub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.UpTo(ctx, 9); err != nil {
			t.Fatal(err)
		}
		const ip, key, bookingID = "192.0.2.62", "old-key", "0190a000-0000-7000-8000-000000000062"
		sum := sha256.Sum256([]byte(ip + "\x00" + key))
		body := `{"booking_id":"` + bookingID + `","status":"received","warnings":[{"field":"phone","rule":"` + lead.RulePhoneFormat +
			`","message":"Phone does not look like a valid phone number; it is kept as given."}]}`
		if _, err := s.DB().Exec(`INSERT INTO idempotency_keys (key_hash, response, created_at) VALUES ($1, $2, $3)`,
			hex.EncodeToString(sum[:]), body, tsText(t0)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Migrate(ctx); err != nil || n == 0 {
			t.Fatalf("migrate the rest: %d, %v", n, err)
		}
		p := params(booking("old@example.org"), ip)
		p.IdempotencyKey = key
		r, err := s.Book(ctx, p)
		if err != nil || !r.Replayed || r.BookingID != bookingID || !sameWarnings(r.Warnings, phoneWarning) {
			t.Fatalf("replay of an old key %+v, %v; want booking %s with its warning", r, err, bookingID)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM bookings`); n != 0 {
			t.Fatalf("%d bookings stored by a replay", n)
		}
	})
}
