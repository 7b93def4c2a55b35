// Package disposable knows the throwaway-mail domains (SPEC §15): the list of the npm package
// disposable-email-domains (MIT, see LICENSE), shipped as data; refresh.sh updates it.
// A booking at such a domain is refused with email_domain_not_accepted: the sales team
// cannot reach a prospect there a week later.
package disposable

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

//go:embed domains.txt
var domainsTxt string

//go:embed wildcard.txt
var wildcardTxt string

// freeMail are providers people really use for years; the list must never refuse them,
// whatever a future refresh brings in.
var freeMail = []string{
	"aol.com", "fastmail.com", "gmail.com", "gmx.com", "gmx.net", "googlemail.com", "hotmail.com", "hotmail.no",
	"icloud.com", "live.com", "live.no", "mail.ru", "me.com", "msn.com", "online.no", "outlook.com", "outlook.no",
	"proton.me", "protonmail.com", "tutanota.com", "yahoo.com", "yahoo.no", "yandex.com", "zoho.com",
}

// lists are the sorted exact and wildcard domains, split once on first use; the slices
// share the embedded text's memory.
var lists = sync.OnceValues(func() ([]string, []string) {
	split := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		slices.Sort(l) // the files are sorted bytewise; this only guards against a hand edit
		return l
	}
	return split(domainsTxt), split(wildcardTxt)
})

// Domain reports whether the email domain d (lower case, as lead.NormalizeEmail leaves it)
// is a throwaway-mail domain: listed itself, or below a wildcard entry (*.example: any
// subdomain, and the domain itself).
func Domain(d string) bool {
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	if d == "" || slices.Contains(freeMail, d) {
		return false
	}
	exact, wild := lists()
	if _, ok := slices.BinarySearch(exact, d); ok {
		return true
	}
	for s := d; s != ""; {
		if _, ok := slices.BinarySearch(wild, s); ok {
			return true
		}
		_, rest, ok := strings.Cut(s, ".")
		if !ok {
			break
		}
		s = rest
	}
	return false
}

// Email reports whether the address's domain is a throwaway-mail domain.
func Email(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	return Domain(addr[at+1:])
}

// FreeMail lists the free-mail providers that are always accepted (for tests and docs).
func FreeMail() []string { return slices.Clone(freeMail) }
