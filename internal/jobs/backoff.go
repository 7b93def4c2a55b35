package jobs

import "time"

// nextAttempt is the retry policy both queues share: the first retry after base, doubling
// per attempt up to max, until giveUpAfter has passed since the work was queued. It returns
// when to try again, or nil when the work has failed for good.
func nextAttempt(now, queued time.Time, attempts int, base, max, giveUpAfter time.Duration) *time.Time {
	delay := base << min(attempts-1, 30)
	if delay > max || delay <= 0 {
		delay = max
	}
	next := now.Add(delay)
	if next.Sub(queued) > giveUpAfter {
		return nil
	}
	return &next
}
