package lead

import (
	"strings"
	"unicode/utf8"
)

// Clip cuts s to at most n bytes of valid UTF-8 without NULs. Request headers stored beside
// a lead (the user agent) are not validated like fields, and PostgreSQL refuses both invalid
// UTF-8 and NUL in text columns.
func Clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
