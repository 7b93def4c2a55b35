package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// groupCommit gathers the writes that wait for SQLite's one writer (bookings, and the email
// worker's job updates) and commits them together: a commit (writing the WAL frames of
// every page a booking touched: the lead, its ten indexes, the search index, the booking,
// its event, the email job) was half of a booking's time, and one commit for the writes
// that arrived together costs little more than one for a single write. Each write still
// runs whole and alone, in order, inside the shared transaction under a savepoint: a
// booking's rate limit, dedup and idempotency see the bookings before it, its failure rolls
// back only itself, and none is answered before the commit that stores it (a failed commit
// fails them all, and none is stored).
type groupCommit struct {
	mu      sync.Mutex
	pending []*groupedWrite
	running bool // a committer goroutine is draining pending
	groups  int  // transactions committed or tried, for tests
	writes  int
	delays  int // times the committer waited for a group to fill (groupCommitDelay), for tests
	// filling is set while the committer waits for a group to fill; the write that makes
	// it full wakes the committer through full.
	filling bool
	full    chan struct{}
	// closed refuses new writes once Close has begun; active counts the writes given to the
	// committer and not yet answered, which Close waits for: a write that was accepted (an
	// email job's "done" mark, a booking) is committed or has failed before the database
	// is closed, never lost in the queue.
	closed bool
	active sync.WaitGroup
}

type groupedWrite struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	err  error
	done chan struct{}
}

const (
	// groupCommitMax bounds a group: the first write of a group waits for the others.
	groupCommitMax = 32
	// groupCommitTimeout bounds a group's transaction; the writes' own contexts are checked
	// before each starts, not during it (an interrupted statement in SQLite can roll back
	// the whole transaction, and with it the group).
	groupCommitTimeout = 30 * time.Second
	// groupCommitDelay is how long the committer lets a group fill when writes come
	// concurrently but in small groups (the group it just committed held more than one and
	// fewer than groupCommitFull), as PostgreSQL's commit_delay does: at 8 concurrent
	// bookings over HTTP a group held 1–2 and each booking paid nearly a commit of its own
	// (its WAL frames, the search index's segment, a claim of its email); letting the group
	// fill cut the CPU of a booking by about a quarter, p99 unchanged (docs/benchmarks.md).
	// The wait ends as soon as groupCommitFull writes wait. A lone writer never waits (its
	// groups hold one), nor do writers that already come in full groups.
	groupCommitDelay = 2 * time.Millisecond
	// groupCommitFull is how many waiting writes make a group worth committing at once.
	groupCommitFull = 8
)

// inGroupTx runs fn in a transaction that, on SQLite, it may share with other writes
// waiting at the same time (engine.writeTx). It returns once the transaction has committed
// (nil) or failed. fn must not keep what it computed when an error is returned.
func (s *Store) inGroupTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.e.writeTx(ctx, s, fn)
}

// groupTx runs fn in a transaction shared with the other writes waiting at the same time
// (groupCommit), under its own savepoint: its error rolls back only its own writes. It
// returns once the transaction has committed (nil) or failed. SQLite's writeTx.
func (s *Store) groupTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	w := &groupedWrite{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.group.mu.Lock()
	if s.group.closed {
		s.group.mu.Unlock()
		return errStoreClosed
	}
	s.group.active.Add(1)
	defer s.group.active.Done()
	s.group.pending = append(s.group.pending, w)
	if s.group.filling && len(s.group.pending) >= groupCommitFull {
		select {
		case s.group.full <- struct{}{}:
		default:
		}
	}
	start := !s.group.running
	s.group.running = true
	s.group.mu.Unlock()
	if start {
		go s.commitGroups()
	}
	<-w.done // bounded by groupCommitTimeout: a write is never left half-known
	return w.err
}

// errStoreClosed answers a write that arrives after Close has begun.
var errStoreClosed = &lead.Error{Code: lead.CodeUnavailable, Message: "the database is closing, try again shortly"}

// flushGroups refuses new grouped writes and waits until every accepted one has been
// committed (or has failed); each group is bounded by groupCommitTimeout.
func (s *Store) flushGroups() {
	s.group.mu.Lock()
	s.group.closed = true
	s.group.mu.Unlock()
	// every Add happened under mu before closed was set, so none races with this Wait
	s.group.active.Wait()
}

// execGrouped runs one statement on its own: sharing a commit on SQLite, in a single
// round trip on PostgreSQL (engine.writeExec).
func (s *Store) execGrouped(ctx context.Context, query string, args ...any) error {
	return s.e.writeExec(ctx, s, query, args...)
}

// commitGroups commits groups of waiting writes until none waits.
func (s *Store) commitGroups() {
	last := 0 // writes in the group committed last
	for {
		s.group.mu.Lock()
		if last > 1 && last < groupCommitFull && len(s.group.pending) < groupCommitFull {
			s.waitForGroup()
		}
		n := min(len(s.group.pending), groupCommitMax)
		if n == 0 {
			s.group.running = false
			s.group.mu.Unlock()
			return
		}
		group := s.group.pending[:n:n]
		s.group.pending = append([]*groupedWrite(nil), s.group.pending[n:]...)
		s.group.groups++
		s.group.writes += n
		s.group.mu.Unlock()
		s.commitGroup(group)
		last = n
	}
}

// waitForGroup lets the next group fill: it returns when groupCommitFull writes wait or
// after groupCommitDelay. It is called and returns with s.group.mu held.
func (s *Store) waitForGroup() {
	s.group.delays++
	if s.group.full == nil {
		s.group.full = make(chan struct{}, 1)
	}
	select {
	case <-s.group.full: // a wake-up left from an earlier wait
	default:
	}
	s.group.filling = true
	s.group.mu.Unlock()
	t := time.NewTimer(groupCommitDelay)
	select {
	case <-s.group.full:
	case <-t.C:
	}
	t.Stop()
	s.group.mu.Lock()
	s.group.filling = false
}

func (s *Store) commitGroup(group []*groupedWrite) {
	ctx, cancel := context.WithTimeout(context.Background(), groupCommitTimeout)
	defer cancel()
	alone := len(group) == 1 // no savepoint needed: its failure is the transaction's
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if !alone {
			if _, err := s.txExec(ctx, tx, sqlDeferSearch); err != nil {
				return err
			}
		}
		for _, w := range group {
			if w.err = w.ctx.Err(); w.err != nil {
				continue
			}
			if alone {
				return w.fn(ctx, tx)
			}
			if _, err := s.txExec(ctx, tx, sqlSavepoint); err != nil {
				return err
			}
			if w.err = w.fn(ctx, tx); w.err != nil {
				w.err = s.mapErr(w.err)
				if _, err := s.txExec(ctx, tx, sqlRollbackToSavepoint); err != nil {
					return err
				}
			}
			if _, err := s.txExec(ctx, tx, sqlReleaseSavepoint); err != nil {
				return err
			}
		}
		if !alone {
			if _, err := s.txExec(ctx, tx, sqlIndexDeferredSearch); err != nil {
				return err
			}
			if _, err := s.txExec(ctx, tx, sqlEndDeferredSearch); err != nil {
				return err
			}
		}
		return nil
	})
	for _, w := range group {
		if err != nil && (w.err == nil || alone) {
			w.err = err // nothing of the group was stored
		}
		close(w.done)
	}
}

// A group's new leads enter the search index together, just before its COMMIT (migration
// 00011): FTS5 flushes its pending terms into a new segment at every RELEASE of a
// savepoint, and whenever a row arrives with a lower rowid than the one before (ours
// descend, see 00003_search.sql), so the per-row trigger made one segment per booking and
// FTS5 merged them again later. While the group's row of leads_search_deferred exists, the
// insert trigger leaves a new lead out of the index; sqlIndexDeferredSearch then indexes
// every lead inserted since the group began (leads are never deleted, so those are the
// rows above the rowid it recorded; a booking rolled back to its savepoint left none) in
// ascending search-rowid order, one segment, and the row is deleted again. All of it is in
// the group's one transaction: no reader sees a lead without its index entry, and a failed
// group leaves neither.
const (
	sqlDeferSearch         = `INSERT INTO leads_search_deferred (since_rowid) SELECT COALESCE(MAX(rowid), 0) FROM leads`
	sqlIndexDeferredSearch = `INSERT INTO leads_search (rowid, doc)
SELECT ` + sqliteSearchKey + ` - rowid, ` + sqliteSearchDoc + ` FROM leads
WHERE rowid > (SELECT since_rowid FROM leads_search_deferred) ORDER BY rowid DESC`
	sqlEndDeferredSearch = `DELETE FROM leads_search_deferred`
)

const (
	sqlSavepoint           = `SAVEPOINT grouped`
	sqlRollbackToSavepoint = `ROLLBACK TO grouped`
	sqlReleaseSavepoint    = `RELEASE grouped`
)
