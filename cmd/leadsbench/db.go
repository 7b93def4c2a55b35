package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

// bareSchema is what the baselines write into: the store's leads and bookings tables
// (same columns, types, checks and foreign key) with only the seed's six indexes on
// leads and the primary keys: the fastest way to store those rows. Not the store's
// schema, which adds the dedup, search, paging and retention indexes a booking pays for.
func bareSchema(engine string) string {
	id, ts := "TEXT", "DATETIME"
	if engine == "postgres" {
		id, ts = "UUID", "TIMESTAMPTZ"
	}
	return strings.NewReplacer("$ID", id, "$TS", ts).Replace(`
CREATE TABLE leads (
    id                $ID PRIMARY KEY,
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    email             TEXT NOT NULL,
    email_normalized  TEXT NOT NULL,
    phone             TEXT,
    organization_name TEXT NOT NULL,
    organization_type TEXT,
    organization_size TEXT,
    role_title        TEXT,
    source            TEXT NOT NULL CHECK (source IN ('demo_booking','contact_form','email','phone','event','referral','partner','social_media','import','other')),
    status            TEXT NOT NULL CHECK (status IN ('new','contacted','qualified','demo_scheduled','demo_completed','proposal_sent','negotiation','won','lost','disqualified')),
    notes             TEXT,
    message           TEXT,
    utm_source        TEXT,
    utm_medium        TEXT,
    utm_campaign      TEXT,
    ip_address        TEXT,
    consent_given     BOOLEAN NOT NULL CHECK (consent_given),
    consent_timestamp $TS NOT NULL,
    created_at        $TS NOT NULL,
    updated_at        $TS NOT NULL,
    anonymized_at     $TS
);
CREATE INDEX idx_leads_email ON leads (email);
CREATE INDEX idx_leads_status ON leads (status);
CREATE INDEX idx_leads_source ON leads (source);
CREATE INDEX idx_leads_created_at ON leads (created_at);
CREATE INDEX idx_leads_organization_name ON leads (organization_name);
CREATE INDEX idx_leads_status_created ON leads (status, created_at);
CREATE TABLE bookings (
    id                $ID PRIMARY KEY,
    lead_id           $ID NOT NULL REFERENCES leads (id),
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    email             TEXT NOT NULL,
    phone             TEXT,
    organization_name TEXT NOT NULL,
    organization_type TEXT,
    organization_size TEXT,
    role_title        TEXT,
    message           TEXT,
    utm_source        TEXT,
    utm_medium        TEXT,
    utm_campaign      TEXT,
    ip_address        TEXT,
    user_agent        TEXT,
    consent_version   TEXT NOT NULL,
    consent_timestamp $TS NOT NULL,
    created_at        $TS NOT NULL
);
`)
}

const (
	bareLeadInsert = `INSERT INTO leads (id, first_name, last_name, email, email_normalized, organization_name,
	organization_type, source, status, message, ip_address, consent_given, consent_timestamp, created_at, updated_at)
	VALUES (?1, 'Ada', 'Lovelace', ?2, ?2, 'Analytical Mentors', 'non-profit', 'demo_booking', 'new',
	'We run 40 mentors.', '198.18.0.1', TRUE, ?3, ?3, ?3)`
	bareBookingInsert = `INSERT INTO bookings (id, lead_id, first_name, last_name, email, organization_name,
	organization_type, message, ip_address, consent_version, consent_timestamp, created_at)
	VALUES (?1, ?2, 'Ada', 'Lovelace', ?3, 'Analytical Mentors', 'non-profit', 'We run 40 mentors.', '198.18.0.1',
	'test-1', ?4, ?4)`
)

// childReport is what a measuring child process (the bare SQLite loop) prints as its last line.
type childReport struct {
	Ops, Errs     int
	Err           string
	Elapsed       time.Duration
	P50, P99, CPU time.Duration
	HWM           int64
}

// bareLoopChild is the bare SQLite loop of SPEC §8, run in a child process of its own
// (`leadsbench -bare-loop URL WARMUP DURATION`) so that its CPU time and peak RSS are its
// own: ONE goroutine on the store's write connection (same driver and pragmas: it opens
// the database with store.Open), the bare schema, and per booking BEGIN IMMEDIATE, the
// prepared lead INSERT, the prepared booking INSERT, COMMIT.
func bareLoopChild(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: -bare-loop URL WARMUP DURATION")
	}
	s, warmup, d, err := openChild(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, bareSchema("sqlite")); err != nil {
		return err
	}
	var stmts [4]*sql.Stmt
	for i, q := range []string{"BEGIN IMMEDIATE", bareLeadInsert, bareBookingInsert, "COMMIT"} {
		if stmts[i], err = conn.PrepareContext(ctx, q); err != nil {
			return err
		}
		defer stmts[i].Close()
	}
	begin, lead, booking, commit := stmts[0], stmts[1], stmts[2], stmts[3]
	var n int64
	one := func() error {
		n++
		if _, err := begin.ExecContext(ctx); err != nil {
			return err
		}
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		leadID, bookingID := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		email := "bare" + strconv.FormatInt(n, 10) + "@example.org"
		_, err := lead.ExecContext(ctx, leadID, email, now)
		if err == nil {
			_, err = booking.ExecContext(ctx, bookingID, leadID, email, now)
		}
		if err == nil {
			_, err = commit.ExecContext(ctx)
		}
		if err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
		}
		return err
	}
	drive(ctx, warmup, 1, one)
	cpu0 := selfCPU()
	r := drive(ctx, d, 1, one)
	rep := childReport{Ops: r.ops, Errs: r.errs, Elapsed: r.elapsed, P50: r.p50, P99: r.p99,
		CPU: selfCPU() - cpu0, HWM: procStatus(os.Getpid(), "VmHWM")}
	if r.firstErr != nil {
		rep.Err = r.firstErr.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// openChild opens the store of a measuring child's arguments URL WARMUP DURATION.
func openChild(ctx context.Context, args []string) (s *store.Store, warmup, d time.Duration, err error) {
	if warmup, err = time.ParseDuration(args[1]); err != nil {
		return nil, 0, 0, err
	}
	if d, err = time.ParseDuration(args[2]); err != nil {
		return nil, 0, 0, err
	}
	s, err = store.Open(ctx, args[0], store.Options{})
	return s, warmup, d, err
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareLoop runs bareLoopChild in a child process on a fresh SQLite file.
func bareLoop(ctx context.Context, o options, dir, name string) (*measure, error) {
	self, dbURL, drop, err := childDatabase(ctx, o, dir, name)
	if err != nil {
		return nil, err
	}
	defer drop()
	out, err := exec.CommandContext(ctx, self, "-bare-loop", dbURL, o.warmup.String(), o.duration.String()).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%v: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("bare loop: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var rep childReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		return nil, fmt.Errorf("bare loop printed %q: %w", out, err)
	}
	return rep.measure(), nil
}

// childDatabase is this program, to run as a measuring child, and a fresh database for it.
func childDatabase(ctx context.Context, o options, dir, name string) (self, dbURL string, drop func(), err error) {
	if self, err = os.Executable(); err != nil {
		return "", "", nil, err
	}
	dbURL, drop, err = freshDatabase(ctx, o, dir, name)
	return self, dbURL, drop, err
}

// measure is what a child reported, as a phase's measure.
func (rep childReport) measure() *measure {
	m := &measure{r: &result{ops: rep.Ops, errs: rep.Errs, elapsed: rep.Elapsed, p50: rep.P50, p99: rep.P99},
		cpu: rep.CPU, hwm: rep.HWM}
	if rep.Err != "" {
		m.r.firstErr = fmt.Errorf("%s", rep.Err)
	}
	return m
}

// pgbenchScript inserts the same lead and booking rows as the bare SQLite loop, one
// transaction each; ids are built from the client id and a random number (pgbench has no
// UUID function), with casts because -M prepared sends the variables as parameters.
const pgbenchScript = `\set n random(1, 140737488355327)
BEGIN;
INSERT INTO leads (id, first_name, last_name, email, email_normalized, organization_name, organization_type, source, status, message, ip_address, consent_given, consent_timestamp, created_at, updated_at) VALUES ((lpad(to_hex(:client_id::int), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid, 'Ada', 'Lovelace', 'pgb' || :client_id::text || '-' || :n::text || '@example.org', 'pgb' || :client_id::text || '-' || :n::text || '@example.org', 'Analytical Mentors', 'non-profit', 'demo_booking', 'new', 'We run 40 mentors.', '198.18.0.1', TRUE, now(), now(), now());
INSERT INTO bookings (id, lead_id, first_name, last_name, email, organization_name, organization_type, message, ip_address, consent_version, consent_timestamp, created_at) VALUES ((lpad(to_hex(:client_id::int), 8, '0') || '-0000-7000-9000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid, (lpad(to_hex(:client_id::int), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid, 'Ada', 'Lovelace', 'pgb' || :client_id::text || '-' || :n::text || '@example.org', 'Analytical Mentors', 'non-profit', 'We run 40 mentors.', '198.18.0.1', 'test-1', now(), now());
COMMIT;
`

// pgbenchPhase is SPEC §8's PostgreSQL baseline: `pgbench -n -M prepared -j 2 -c CLIENTS`
// running pgbenchScript on a fresh database with the bare schema. Latencies come from its
// per-transaction log (-l); the server CPU is PostgreSQL's (all its processes).
func pgbenchPhase(ctx context.Context, o options, dir, name string) (*measure, error) {
	dbURL, drop, err := freshDatabase(ctx, o, dir, name)
	if err != nil {
		return nil, err
	}
	defer drop()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	_, err = db.ExecContext(ctx, bareSchema("postgres"))
	db.Close()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "bare.pgbench")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return nil, err
	}
	run := func(d time.Duration, extra ...string) ([]byte, error) {
		args := append([]string{"-n", "-M", "prepared", "-j", "2", "-c", strconv.Itoa(o.clients),
			"-T", strconv.Itoa(max(1, int(d.Round(time.Second).Seconds()))), "-f", script}, extra...)
		out, err := exec.CommandContext(ctx, "pgbench", append(args, dbURL)...).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("pgbench: %v\n%s", err, out)
		}
		return out, nil
	}
	if o.warmup > 0 {
		if _, err := run(o.warmup); err != nil {
			return nil, err
		}
	}
	logs := filepath.Join(dir, name+"-log")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(logs)
	pg := backendCPU(postgresDB(dbURL))
	out, err := run(o.duration, "-l", "--log-prefix="+filepath.Join(logs, "tx"))
	cpu := pg()
	if err != nil {
		return nil, err
	}
	var tps float64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "tps = "); ok {
			fmt.Sscan(v, &tps)
		}
	}
	var lat []time.Duration
	files, _ := filepath.Glob(filepath.Join(logs, "tx.*"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() { // client_id transaction_no time_us script_no epoch epoch_us
			if fs := strings.Fields(sc.Text()); len(fs) >= 3 {
				if us, err := strconv.ParseInt(fs[2], 10, 64); err == nil {
					lat = append(lat, time.Duration(us)*time.Microsecond)
				}
			}
		}
		fh.Close()
	}
	if tps == 0 || len(lat) == 0 {
		return nil, fmt.Errorf("pgbench: no tps or transaction log in its output:\n%s", out)
	}
	slices.Sort(lat)
	r := &result{ops: len(lat), elapsed: time.Duration(float64(len(lat)) / tps * float64(time.Second))}
	r.p50, r.p99 = quantile(lat, .50), quantile(lat, .99)
	return &measure{r: r, dbCPU: cpu}, nil
}
