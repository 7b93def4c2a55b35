package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/store"
)

// freshDatabase returns the URL of an empty database for one phase and a function that
// drops it: a new SQLite file in dir, or a new database on the PostgreSQL server.
func freshDatabase(ctx context.Context, o options, dir, name string) (string, func(), error) {
	if o.engine == "sqlite" {
		return "sqlite:" + filepath.Join(dir, name+".db"), func() {}, nil
	}
	admin, err := sql.Open("pgx", o.pgAdmin)
	if err != nil {
		return "", nil, err
	}
	var b [4]byte
	rand.Read(b[:])
	db := "leadsbench_" + name + "_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+db); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database on %s: %w", o.pgAdmin, err)
	}
	u, err := url.Parse(o.pgAdmin)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + db
	drop := func() {
		admin.Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// bareInserts is the baseline: the rows a booking writes (lead + booking, the same columns
// as BenchmarkBookings/bare-insert), one transaction each, through the store's own pool and
// driver, at the same concurrency, without any check.
func bareInserts(ctx context.Context, dbURL string, o options) (*result, error) {
	s, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	db := s.DB()
	var n atomic.Int64
	op := func() error { return bareInsert(ctx, db, n.Add(1)) }
	drive(ctx, o.warmup, o.clients, op)
	return drive(ctx, o.duration, o.clients, op), nil
}

func bareInsert(ctx context.Context, db *sql.DB, i int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	leadID, bookingID := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	email := "bare" + strconv.FormatInt(i, 10) + "@example.org"
	if _, err := tx.ExecContext(ctx, `INSERT INTO leads (id, first_name, last_name, email, email_normalized, organization_name,
		organization_type, source, status, message, ip_address, consent_given, consent_timestamp, created_at, updated_at)
		VALUES ($1, 'Ada', 'Lovelace', $2, $2, 'Analytical Mentors', 'non-profit', 'demo_booking', 'new',
		'We run 40 mentors.', '10.0.0.1', TRUE, $3, $3, $3)`, leadID, email, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bookings (id, lead_id, first_name, last_name, email, organization_name,
		organization_type, message, ip_address, consent_version, consent_timestamp, created_at)
		VALUES ($1, $2, 'Ada', 'Lovelace', $3, 'Analytical Mentors', 'non-profit', 'We run 40 mentors.', '10.0.0.1',
		'test-1', $4, $4)`, bookingID, leadID, email, now); err != nil {
		return err
	}
	return tx.Commit()
}

// pgbenchScript inserts the same lead and booking rows as bareInsert, one transaction each;
// ids are built from the client id and a random number, as pgbench has no UUID function.
const pgbenchScript = `\set n random(1, 140737488355327)
BEGIN;
INSERT INTO leads (id, first_name, last_name, email, email_normalized, organization_name, organization_type, source, status, message, ip_address, consent_given, consent_timestamp, created_at, updated_at) VALUES ((lpad(to_hex(:client_id), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(:n), 12, '0'))::uuid, 'Ada', 'Lovelace', 'pgb' || :client_id || '-' || :n || '@example.org', 'pgb' || :client_id || '-' || :n || '@example.org', 'Analytical Mentors', 'non-profit', 'demo_booking', 'new', 'We run 40 mentors.', '10.0.0.1', TRUE, now(), now(), now());
INSERT INTO bookings (id, lead_id, first_name, last_name, email, organization_name, organization_type, message, ip_address, consent_version, consent_timestamp, created_at) VALUES ((lpad(to_hex(:client_id), 8, '0') || '-0000-7000-9000-' || lpad(to_hex(:n), 12, '0'))::uuid, (lpad(to_hex(:client_id), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(:n), 12, '0'))::uuid, 'Ada', 'Lovelace', 'pgb' || :client_id || '-' || :n || '@example.org', 'Analytical Mentors', 'non-profit', 'We run 40 mentors.', '10.0.0.1', 'test-1', now(), now());
COMMIT;
`

// pgbenchInserts runs pgbenchScript with pgbench (the SPEC §8 PostgreSQL baseline) on a
// migrated database and returns its tps and average latency.
func pgbenchInserts(ctx context.Context, dbURL, dir string, o options) (tps float64, avg time.Duration, err error) {
	s, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return 0, 0, err
	}
	_, err = s.Migrate(ctx)
	s.Close()
	if err != nil {
		return 0, 0, err
	}
	script := filepath.Join(dir, "bare.pgbench")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return 0, 0, err
	}
	secs := max(1, int(o.duration.Seconds()))
	out, err := exec.CommandContext(ctx, "pgbench", "-n", "-c", strconv.Itoa(o.clients), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(secs), "-f", script, dbURL).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "tps = "); ok {
			fmt.Sscan(v, &tps)
		}
		if v, ok := strings.CutPrefix(line, "latency average = "); ok {
			var msec float64
			fmt.Sscan(v, &msec)
			avg = time.Duration(msec * float64(time.Millisecond))
		}
	}
	if tps == 0 {
		return 0, 0, fmt.Errorf("pgbench: no tps in its output:\n%s", out)
	}
	return tps, avg, nil
}
