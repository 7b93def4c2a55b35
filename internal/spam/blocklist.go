package spam

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
)

// Blocklist kinds.
const (
	BlockEmail  = "email"
	BlockDomain = "domain"
	BlockIP     = "ip"
)

// NormalizeBlock checks a blocklist entry and returns its stored value: an email address
// normalized as leads are deduplicated, a domain in lower case without a leading "@" or
// "*.", an IP address or CIDR as its masked prefix (an address is its /32 or /128).
func NormalizeBlock(kind, value string) (string, error) {
	value = strings.TrimSpace(value)
	switch kind {
	case BlockEmail:
		if !lead.ValidEmail(value) {
			return "", errors.New("value must be a valid email address")
		}
		return lead.NormalizeEmail(value), nil
	case BlockDomain:
		d := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(value, "@"), "*."))
		if !lead.ValidEmail("x@"+d) || strings.Contains(d, "@") {
			return "", errors.New("value must be a domain name like example.com")
		}
		return lead.NormalizeEmail("x@" + d)[2:], nil
	case BlockIP:
		if p, err := netip.ParsePrefix(value); err == nil {
			return p.Masked().String(), nil
		}
		a, err := netip.ParseAddr(value)
		if err != nil {
			return "", errors.New("value must be an IP address or a CIDR like 203.0.113.0/24")
		}
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()).String(), nil
	}
	return "", errors.New("kind must be email, domain or ip")
}

// Matches reports whether a blocklist entry (kind, normalized value) covers a booking from
// the normalized email address and client ip. A domain covers its subdomains.
func Matches(kind, value, emailNormalized, ip string) bool {
	switch kind {
	case BlockEmail:
		return value == emailNormalized
	case BlockDomain:
		at := strings.LastIndexByte(emailNormalized, '@')
		if at < 0 {
			return false
		}
		d := emailNormalized[at+1:]
		return d == value || strings.HasSuffix(d, "."+value)
	case BlockIP:
		p, err := netip.ParsePrefix(value)
		if err != nil {
			return false
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return false
		}
		return p.Contains(a.Unmap().WithZone(""))
	}
	return false
}
