package intake

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimit is "Count bookings per Window per client IP"; Count 0 disables it.
type RateLimit struct {
	Count  int
	Window time.Duration
}

// ParseRateLimit reads the --rate-limit form "5/1h" (count/duration).
func ParseRateLimit(s string) (RateLimit, error) {
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return RateLimit{}, fmt.Errorf("rate limit %q: want COUNT/DURATION, e.g. 5/1h", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: bad count", s)
	}
	window, err := time.ParseDuration(w)
	if err != nil || window <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: bad duration", s)
	}
	return RateLimit{Count: count, Window: window}, nil
}

func (r RateLimit) String() string { return fmt.Sprintf("%d/%s", r.Count, r.Window) }
