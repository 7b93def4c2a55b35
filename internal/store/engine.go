package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// engine is what differs between SQLite (sqlite.go) and PostgreSQL (postgres.go). As
// River's riverdriver does, it holds whole operations, each written out as SQL in its
// engine's file; the statements both engines share stay in the aggregate files
// (booking.go, staff.go, …). Both engines accept $N placeholders, RETURNING and
// ON CONFLICT … WHERE for partial unique indexes. storetest.Run runs every operation on
// both (engine_test.go names the test of each).
type engine interface {
	// name is "sqlite" or "postgres" (Store.Engine).
	name() string

	// migrator is the goose provider of the engine's migrations over db.
	migrator(db *sql.DB) (*goose.Provider, error)
	// afterMigrate readies s once the tables exist (SQLite prepares the hot statements).
	afterMigrate(ctx context.Context, s *Store) error

	// writeTx runs fn in a write transaction and returns once it committed (nil) or
	// failed. SQLite, which has one writer, shares the transaction with the writes waiting
	// at the same time, each under its own savepoint (groupcommit.go).
	writeTx(ctx context.Context, s *Store, fn func(ctx context.Context, tx *sql.Tx) error) error
	// writeExec runs one write statement on its own: in a shared commit on SQLite, in a
	// single round trip on PostgreSQL.
	writeExec(ctx context.Context, s *Store, query string, args ...any) error

	// lockRateKey serializes the bookings of one rate key (RateKey) inside tx, so that
	// counting the window and inserting are one atomic step (rate_limit_per_ip).
	lockRateKey(ctx context.Context, s *Store, tx *sql.Tx, key string) error
	// recentBookings takes lockRateKey's lock and returns the creation times of the
	// key's bookings after since, oldest first.
	recentBookings(ctx context.Context, s *Store, tx *sql.Tx, key string, since time.Time) ([]time.Time, error)
	// bookWrites writes a booking that passed its checks (booking.go): its proof-of-work
	// challenge marked used (errChallengeUsed when it was), the lead's upsert,
	// the booking, its event and, for a new lead, the confirmation email job; it reads
	// the live webhook subscriptions.
	bookWrites(ctx context.Context, s *Store, tx *sql.Tx, w bookingWrite) (bookingWritten, error)
	// lockIfEligible reports whether any member is eligible under lead_owner_assignment
	// at now (assign.go) and, if so, takes lockAssignment's lock: no eligible member, one
	// read and no lock, so bookings without a team do not queue for it.
	lockIfEligible(ctx context.Context, s *Store, tx *sql.Tx, now time.Time) (bool, error)
	// lockAssignment takes the transaction lock that serializes the rule's choices.
	lockAssignment(ctx context.Context, tx *sql.Tx) error
	// claimEmailJobs leases up to limit due email jobs with their recipients, cancelling
	// those whose lead was erased while queued (emailjobs.go).
	claimEmailJobs(ctx context.Context, s *Store, now time.Time, lease time.Duration, limit int) ([]EmailJob, error)
	// completeEmailJob marks a claimed email job done (emailjobs.go): in a shared commit
	// on SQLite, in a statement shared with the marks waiting at the same time on
	// PostgreSQL (donemarks.go).
	completeEmailJob(ctx context.Context, s *Store, id string) error
	// claimWebhookDeliveries leases, in tx, up to limit due deliveries of active
	// subscriptions; webhooks.go adds their targets.
	claimWebhookDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error)
	// listPage returns up to k leads matching f, newest first, after the cursor (list.go).
	listPage(ctx context.Context, s *Store, f query.Filter, after *query.Cursor, k int) ([]lead.Lead, error)
	// tryLock takes the transaction-scoped lock named key without waiting and reports
	// whether it got it: work that must run in one instance at a time skips its round
	// when another instance holds it.
	tryLock(ctx context.Context, tx *sql.Tx, key int64) (bool, error)
	// afterErasure runs after a committed erasure, outside its transaction, so that the
	// erased values leave every file of the database.
	afterErasure(ctx context.Context, db *sql.DB) error
	// bulkBegin prepares db for a bulk load (Store.BulkLoad); finish undoes that and
	// brings the planner statistics up to date.
	bulkBegin(ctx context.Context, db *sql.DB) (finish func(context.Context) error, err error)
	// bulkSchema lists what a bulk load drops in tx before inserting into the leads,
	// bookings and lead_events tables and creates again after: the secondary indexes when
	// rebuild (the load is at least as big as what the tables hold: a sorted build beats a
	// million random inserts), and what the engine's search index needs; indexSearch brings
	// the search index up to date with the leads added once they are in.
	bulkSchema(ctx context.Context, tx *sql.Tx, rebuild bool) (objects []schemaObject, indexSearch func() error, err error)
	// classify tells the driver errors the store acts on apart, by code.
	classify(err error) errClass

	// How the engine spells what the shared statements need:

	// searchCond is the condition of a search for q (trimmed, not empty, no control
	// characters): q occurs case-insensitively in the first and last name, email or
	// organization name. arg adds a query argument and returns its placeholder. common is
	// false when every match is wanted (the export). See 00003_search.sql.
	searchCond(q string, common bool, arg func(any) string) string
	// unindexed marks a column so that the engine does not pick an index on it: for filters
	// whose index would find rows out of created_at order.
	unindexed(col string) string
	// forUpdate is appended to a SELECT of a row the transaction is about to change, so
	// that a concurrent writer waits and then reads the committed result.
	forUpdate() string
	// forShare is appended to a SELECT of a row that must not be locked for update by
	// another transaction until this one ends, while plain updates of it still may proceed.
	forShare() string
	// unpreparedArgs prefixes the arguments of a statement that should not be prepared and
	// cached: list and search queries, whose best plan depends on the values, and multi-row
	// INSERTs, whose text varies with their size.
	unpreparedArgs(args []any) []any
	// jsonText extracts the text value of key from a JSON object stored as text in col.
	jsonText(col, key string) string
	// bulkParam is the placeholder of the n-th (1-based, in order) argument of a statement
	// with thousands of them (multi-row INSERTs).
	bulkParam(n int) string
	// bulkTime selects timestamp column col for reading many rows fast (the CSV export).
	bulkTime(col string) string
}

// errClass is what classify makes of a driver error.
type errClass int

const (
	errOther errClass = iota
	errUnique
	errUnavailable
	// errTooManyConns is the server refusing one more connection (PostgreSQL 53300):
	// unavailable too, and worth saying so.
	errTooManyConns
	// errDeleteRefused is the no-delete trigger of lead_soft_delete_only.
	errDeleteRefused
	// errOverlap is an exclusion constraint's refusal (PostgreSQL 23P01): demo_slot_taken.
	errOverlap
)

// bookingWrite is what bookWrites stores: sqlUpsertLead's arguments ($1-$21) and what
// the booking, its event and its email job add.
type bookingWrite struct {
	upsert       []any
	newLeadID    string
	bookingID    string
	p            *BookingParams
	rateKey      string
	eventDetails string
	now          time.Time
}

// bookingWritten is what bookWrites did.
type bookingWritten struct {
	leadID      string
	ownerID     string // the lead's owner before this booking ("" for none)
	emailQueued bool
	subs        []subscription
	// eligible is what the engine's statements already learnt of the rule's members
	// (PostgreSQL asks in the booking's statement; SQLite leaves it to the rule).
	eligible eligibility
}

// openDB opens the write pool and the read pool for a database URL:
// "sqlite:path" (or "sqlite://path", "file:path") or "postgres://…" / "postgresql://…".
func openDB(rawURL string) (engine, *sql.DB, *sql.DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(rawURL)
	case strings.HasPrefix(rawURL, "sqlite:"), strings.HasPrefix(rawURL, "file:"):
		return openSQLite(rawURL)
	default:
		return nil, nil, nil, fmt.Errorf("database URL must start with sqlite: or postgres://")
	}
}

// escapeLike makes every character of s literal in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
