package intake

import (
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in   string
		want RateLimit
		ok   bool
	}{
		{"5/1h", RateLimit{5, time.Hour}, true},
		{" 10/30m ", RateLimit{10, 30 * time.Minute}, true},
		{"0/1h", RateLimit{0, time.Hour}, true},
		{"5", RateLimit{}, false},
		{"x/1h", RateLimit{}, false},
		{"-1/1h", RateLimit{}, false},
		{"5/0s", RateLimit{}, false},
		{"5/hour", RateLimit{}, false},
	}
	for _, tt := range tests {
		got, err := ParseRateLimit(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRateLimit(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
