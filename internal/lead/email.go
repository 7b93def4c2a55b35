package lead

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits of §4 and RFC 5321.
const (
	maxEmailLength  = 254 // code points, the whole address
	maxLocalLength  = 64  // bytes; the local part is ASCII only
	maxDomainLength = 253 // bytes of the ASCII (punycode) form
	maxLabelLength  = 63  // bytes of one ASCII label
)

// ValidEmail reports whether s is an address a business lead can receive mail at (SPEC §4):
// a dot-atom local part, "@", and a domain of at least two labels, each 1–63 letters, digits
// and hyphens not starting or ending with a hyphen; Unicode (IDN) labels are accepted when
// they convert to a proper punycode label. Display names, comments, quoted local parts,
// IP literals, dotless domains and whitespace are rejected. Spaces and tabs around the
// address are ignored; any other whitespace, CR or LF makes it invalid.
//
// The local part is ASCII only: SMTPUTF8 mailboxes are rare, and many relays refuse them.
func ValidEmail(s string) bool {
	s = trimSpaceTab(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxEmailLength {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	return validLocalPart(s[:at]) && validDomain(s[at+1:])
}

// NormalizeEmail is the form deduplication compares: trimmed of spaces and tabs, lower-cased.
func NormalizeEmail(s string) string {
	return strings.ToLower(trimSpaceTab(s))
}

func trimSpaceTab(s string) string { return strings.Trim(s, " \t") }

// validLocalPart checks an RFC 5322 dot-atom: atext runs separated by single dots. A quote,
// a parenthesis, a backslash, "@" or whitespace is not atext, so quoted strings, comments
// and a second "@" all fail here.
func validLocalPart(local string) bool {
	if local == "" || len(local) > maxLocalLength {
		return false
	}
	for atom := range strings.SplitSeq(local, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	return true
}

func isAtext(c byte) bool {
	return isASCIILetter(c) || isASCIIDigit(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validDomain accepts host names only. A domain literal ("[1.2.3.4]") fails the label check
// because brackets are not letters, digits or hyphens; a dotted quad is refused by the
// all-numeric top-level label rule (RFC 3696), so no IP address gets through either way.
func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	total := len(labels) - 1 // the dots
	for _, label := range labels {
		ascii, ok := asciiLabel(label)
		if !ok {
			return false
		}
		total += len(ascii)
	}
	return total <= maxDomainLength && !allDigits(labels[len(labels)-1])
}

// asciiLabel returns the label's ASCII form if it is a valid host name label.
func asciiLabel(label string) (string, bool) {
	if !isASCII(label) {
		// A Unicode label must turn into a real IDN ("xn--…") label. This also refuses
		// labels that IDNA mapping folds to plain ASCII (full-width letters, "。" as a dot),
		// which would otherwise be stored in a form that never matches their ASCII twin.
		a, err := idna.Lookup.ToASCII(label)
		if err != nil || !strings.HasPrefix(a, "xn--") {
			return "", false
		}
		label = a
	}
	if label == "" || len(label) > maxLabelLength || label[0] == '-' || label[len(label)-1] == '-' {
		return "", false
	}
	for i := 0; i < len(label); i++ {
		if c := label[i]; !isASCIILetter(c) && !isASCIIDigit(c) && c != '-' {
			return "", false
		}
	}
	return label, true
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isASCIIDigit(c byte) bool  { return '0' <= c && c <= '9' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
