package store

import (
	"context"
	"database/sql"
)

// GroupCommits reports how many group transactions ran and how many writes they held.
func GroupCommits(s *Store) (groups, writes int) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.groups, s.group.writes
}

// GroupCommitDelays reports how often the committer waited for a group to fill.
func GroupCommitDelays(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.delays
}

// GroupedWrite is inGroupTx, for tests that hold a shared commit open.
func GroupedWrite(ctx context.Context, s *Store, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.inGroupTx(ctx, fn)
}

// GroupQueue reports how many grouped writes wait for the committer, and whether Close has
// begun refusing new ones.
func GroupQueue(s *Store) (pending int, closed bool) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.pending), s.group.closed
}

// FailBookingsAfterWrites makes the bookings for which fail returns an error fail after
// their writes, just before their idempotency record. Set it before booking.
func FailBookingsAfterWrites(s *Store, fail func(BookingParams) error) { s.failBooking = fail }

// DoneMarks reports how many statements wrote PostgreSQL's email "done" marks and how many
// marks they held.
func DoneMarks(s *Store) (batches, marks int) {
	s.marks.mu.Lock()
	defer s.marks.mu.Unlock()
	return s.marks.batches, s.marks.marks
}
