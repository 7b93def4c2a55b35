package lead

import "testing"

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Mozilla/5.0", 500, "Mozilla/5.0"},
		{"abcdef", 3, "abc"},
		{"a\x00b", 10, "ab"},
		{"a\xffb", 10, "ab"},
		{"aé", 2, "a"}, // never half a rune
		{"aé", 3, "aé"},
		{"", 5, ""},
	} {
		if got := Clip(tc.in, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
