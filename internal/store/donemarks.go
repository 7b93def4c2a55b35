package store

import (
	"context"
	"sync"
	"time"
)

// doneMarks coalesces the email worker's "done" marks on PostgreSQL the way groupCommit
// coalesces SQLite's writes: each mark was a commit of its own (a WAL flush, with
// synchronous_commit on), a third of the commits per booking. A mark that arrives while
// another is being written waits for it and goes into the next statement with every mark
// that arrived meanwhile: one UPDATE and one commit for all of them. No mark waits for
// more than the commit in flight, and none is answered before the commit that stores it:
// the instant between the SMTP server's acceptance and the mark is no longer than before.
type doneMarks struct {
	mu      sync.Mutex
	pending []*doneMark
	running bool
	batches int // statements run, for tests
	marks   int
}

type doneMark struct {
	id   string
	err  error
	done chan struct{}
}

// doneMarksMax bounds the ids of one statement.
const doneMarksMax = 256

const sqlCompleteEmailJobs = `UPDATE email_jobs SET status = 'done', locked_until = NULL, last_error = NULL, updated_at = $2
WHERE id = ANY($1::uuid[])`

// completeEmailJobBatched marks a job done in a statement shared with the marks waiting at
// the same time; it returns once that statement has committed (nil) or failed.
func (s *Store) completeEmailJobBatched(ctx context.Context, id string) error {
	m := &doneMark{id: id, done: make(chan struct{})}
	s.marks.mu.Lock()
	s.marks.pending = append(s.marks.pending, m)
	start := !s.marks.running
	s.marks.running = true
	s.marks.mu.Unlock()
	if start {
		go s.writeDoneMarks()
	}
	select {
	case <-m.done:
		return m.err
	case <-ctx.Done():
		// the statement may still store it; a mark is idempotent (the worker tries again)
		return ctx.Err()
	}
}

// writeDoneMarks writes the waiting marks, a statement at a time, until none waits.
func (s *Store) writeDoneMarks() {
	for {
		s.marks.mu.Lock()
		n := min(len(s.marks.pending), doneMarksMax)
		if n == 0 {
			s.marks.running = false
			s.marks.mu.Unlock()
			return
		}
		batch := s.marks.pending[:n:n]
		s.marks.pending = append([]*doneMark(nil), s.marks.pending[n:]...)
		s.marks.batches++
		s.marks.marks += n
		s.marks.mu.Unlock()
		ids := make([]string, n)
		for i, m := range batch {
			ids[i] = m.id
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := s.write.ExecContext(ctx, sqlCompleteEmailJobs, ids, ts(s.now()))
		cancel()
		for _, m := range batch {
			m.err = s.mapErr(err)
			close(m.done)
		}
	}
}
