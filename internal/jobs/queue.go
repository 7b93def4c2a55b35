package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// storeTimeout bounds a worker's own claims and records.
const storeTimeout = 10 * time.Second

// settings are the knobs both workers expose as fields (see EmailWorker); a zero one
// takes a default (withDefaults).
type settings struct {
	Poll, Lease, BaseBackoff, MaxBackoff, GiveUpAfter time.Duration
	Batch, Parallel                                   int
	Logger                                            *slog.Logger
	Now                                               func() time.Time
	Observe                                           func(outcome string)
}

// withDefaults fills the zero settings: the lease and parallelism the worker gives, and
// for both workers a 1s poll, retries after 5s doubling up to 1h for 24h, batches of 16.
func (s settings) withDefaults(lease time.Duration, parallel int) settings {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&s.Poll, time.Second)
	set(&s.Lease, lease)
	set(&s.BaseBackoff, 5*time.Second)
	set(&s.MaxBackoff, time.Hour)
	set(&s.GiveUpAfter, 24*time.Hour)
	if s.Batch <= 0 {
		s.Batch = 16
	}
	if s.Parallel <= 0 {
		s.Parallel = parallel
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// retry is the retry policy both queues share for a failed attempt of a job queued at
// queued: the first retry after BaseBackoff, doubling per attempt up to MaxBackoff, until
// GiveUpAfter has passed since it was queued. It returns when to try again and "retry", or
// nil and "failed" when the job has failed for good.
func (s settings) retry(queued time.Time, attempts int) (*time.Time, string) {
	delay := s.BaseBackoff << min(attempts-1, 30)
	if delay > s.MaxBackoff || delay <= 0 {
		delay = s.MaxBackoff
	}
	next := s.Now().Add(delay)
	if next.Sub(queued) > s.GiveUpAfter {
		return nil, "failed"
	}
	return &next, "retry"
}

// queue is the loop both workers run over their table: claim a batch of due jobs under a
// lease, deliver them Parallel at once, and on a stop claim no more and give back the
// claimed jobs not begun. A worker says only how to claim, deliver (and record) and give
// back its jobs of type J.
//
// A stop (ctx cancelled) never cuts a delivery in flight: the receiver may already have
// acted on it, and a delivery cut before its answer was read looks failed, so the job would
// be retried and delivered twice (issue 19). A delivery is bounded by its own timeouts
// instead; a caller that cannot wait that long exits without waiting, and the job is
// delivered again when its lease has run out, as after a crash.
type queue[J any] struct {
	settings
	name, noun string          // "email queue", "jobs": for its log lines
	wake       <-chan struct{} // a local wake-up besides the poll; nil for none

	claim   func(ctx context.Context, n int, lease time.Duration) ([]J, error)
	release func(ctx context.Context, js []J) error // gives back claimed jobs not begun
	// lanes splits a claimed batch: the jobs of one lane are delivered one after the other,
	// in order, the lanes Parallel at once. Nil: every job is a lane of its own.
	lanes func(js []J) [][]J
	// deliver attempts one job and records its outcome, which it returns for Observe. Its
	// ctx is never cancelled by a stop.
	deliver func(ctx context.Context, j J) (outcome string)
}

// run delivers until ctx is cancelled; then it returns once every delivery in flight has
// ended and been recorded, and the claimed jobs not begun have been given back.
func (q *queue[J]) run(ctx context.Context) {
	ticker := time.NewTicker(q.Poll)
	defer ticker.Stop()
	for {
		if n := q.runOnce(ctx); n == q.Batch {
			continue // there may be more due right now
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-q.wake:
			// A wake-up comes after every commit that queued a job: claimed at once, each
			// booking's job was claimed, and its claim committed, on its own (the claim and
			// its delivery were 15% of a booking's CPU at 8 clients). Waiting a moment lets
			// the jobs of the bookings right behind it join the same claim, and their
			// marks the same commit. An email goes out that much later; nothing else changes.
			gather := time.NewTimer(wakeGather)
			select {
			case <-ctx.Done():
				gather.Stop()
				return
			case <-gather.C:
			}
		}
	}
}

// wakeGather is how long the loop lets jobs gather after a local wake-up before it claims.
const wakeGather = 5 * time.Millisecond

// runOnce claims one batch of due jobs and delivers them; it returns how many it claimed.
// Once ctx is cancelled it begins no delivery: the jobs not begun are given back.
func (q *queue[J]) runOnce(ctx context.Context) int {
	if ctx.Err() != nil {
		return 0
	}
	// ctx only says when to stop beginning work; what has begun runs on: a claim cut after
	// its commit would leave jobs that nobody delivers until their lease runs out
	work := context.WithoutCancel(ctx)
	claimCtx, cancel := context.WithTimeout(work, storeTimeout)
	claimed, err := q.claim(claimCtx, q.Batch, q.Lease)
	cancel()
	if err != nil {
		q.Logger.Warn(q.name+": claim failed", "error", err.Error())
		return 0
	}
	var lanes [][]J
	if q.lanes != nil {
		lanes = q.lanes(claimed)
	} else {
		for _, j := range claimed {
			lanes = append(lanes, []J{j})
		}
	}
	sem := make(chan struct{}, q.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var notBegun []J
	giveBack := func(js []J) {
		mu.Lock()
		notBegun = append(notBegun, js...)
		mu.Unlock()
	}
	for i, lane := range lanes {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			for _, rest := range lanes[i:] {
				giveBack(rest)
			}
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			for k, j := range lane {
				if ctx.Err() != nil {
					giveBack(lane[k:])
					return
				}
				q.observe(q.deliver(work, j))
			}
		})
	}
	wg.Wait()
	if len(notBegun) > 0 {
		releaseCtx, cancel := context.WithTimeout(work, storeTimeout)
		defer cancel()
		if err := q.release(releaseCtx, notBegun); err != nil {
			// they are due again when their lease runs out; delivered once all the same
			q.Logger.Warn(fmt.Sprintf("%s: could not give back %s not begun", q.name, q.noun), q.noun, len(notBegun), "error", err.Error())
		}
	}
	return len(claimed)
}

func (q *queue[J]) observe(outcome string) {
	if q.Observe != nil {
		q.Observe(outcome)
	}
}
