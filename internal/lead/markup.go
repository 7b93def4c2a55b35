package lead

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// ContainsMarkup reports whether s contains HTML markup in the sense of the
// xss_sanitization rule (SPEC §3.1): an element start or end tag, a comment or other
// "<!"/"<?" construct, a javascript: or vbscript: URL, a data:text/html URL, or an event
// handler attribute pattern such as "onerror=". Text that merely uses <, > or & ("<50
// volunteers", "R&D", "a > b", "I <3 Meander") is not markup.
func ContainsMarkup(s string) bool {
	return hasTagOpen(s) || hasScriptURL(s) || hasEventHandler(s)
}

// hasEventHandler is eventHandlerPattern, skipped for the text of nearly every field that
// has no "=" (the pattern cannot match without one): the regexp was a few percent of a
// booking's CPU.
func hasEventHandler(s string) bool {
	return strings.IndexByte(s, '=') >= 0 && eventHandlerPattern.MatchString(s)
}

// hasTagOpen finds a "<" that the HTML tokenizer (WHATWG "tag open" state) would take as
// the start of markup rather than text: "<" followed by an ASCII letter (start tag), "/"
// and a letter (end tag), "!" (comment, doctype, CDATA) or "?" (bogus comment).
//
// This is a scan rather than a run of x/net/html's Tokenizer on purpose: the tokenizer
// drops an unterminated tag at the end of the input ("hi <img src=x"), yet such a value is
// still dangerous once it is pasted into a page and the page's own text closes the tag.
// Up to that case the two agree; the tests check it against the tokenizer.
func hasTagOpen(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		switch c := s[i+1]; {
		case isASCIILetter(c), c == '!', c == '?':
			return true
		case c == '/' && i+2 < len(s) && isASCIILetter(s[i+2]):
			return true
		}
	}
	return false
}

// hasScriptURL finds the dangerous URL schemes the way a browser would read them in an
// attribute: character references decoded ("java&#x09;script&colon;"), and ASCII tab, LF
// and CR removed, as the URL parser does. Other control characters are removed as well,
// since old browsers skipped them too. Spaces are kept: "java script:" is not a scheme.
// Case is ignored, as schemes are case-insensitive.
func hasScriptURL(s string) bool {
	if !strings.ContainsAny(s, ":&") {
		return false // no colon can appear without one of these
	}
	decoded := html.UnescapeString(s)
	squashed := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, decoded)
	return dangerousURLPattern.MatchString(squashed)
}

// dangerousURLPattern matches after hasScriptURL's clean-up. A data: URL's media type may
// have leading whitespace (the Fetch standard strips it), so "data: text/html" counts.
var dangerousURLPattern = regexp.MustCompile(`(?i)javascript:|vbscript:|data: *text/html`)

// eventHandlerPattern is an attribute named on<letters> followed by "=", as in "onerror=" or
// `"onmouseover =`. The name must start a word, so prose ("Lisbon=capital", "we are on
// it", "session=1") is not caught; an "on…=" word in plain text ("online=yes") is, which
// is the price of refusing attribute injection without any tag around it.
var eventHandlerPattern = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])on[a-z]+[\t\n\f\r ]*=`)
