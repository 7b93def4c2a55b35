package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Timeout bounds one delivery attempt, connection to last byte of the answer.
const Timeout = 10 * time.Second

// maxURLLength keeps stored URLs reasonable.
const maxURLLength = 2000

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which URLs webhooks may be sent to. Without AllowPrivate, a URL whose host
// is or resolves to an internal address is refused when it is subscribed, before every
// attempt, and at connect time (so a DNS answer that changes in between gains nothing).
// The zero value refuses private addresses and uses the system resolver.
type Guard struct {
	AllowPrivate bool
	Resolver     Resolver // net.DefaultResolver when nil
}

// URLError says why a webhook URL is refused. Its message never repeats the URL, which
// may carry a token in its path.
type URLError struct{ Reason string }

func (e *URLError) Error() string { return "webhook URL not allowed: " + e.Reason }

// ErrAddressNotAllowed is returned by the guarded dialer for an internal address.
var ErrAddressNotAllowed = errors.New("webhook address is internal (loopback, private, link-local, …) and not allowed")

// CheckURL parses raw and refuses what webhooks may not target: schemes other than http
// and https, URLs without a host, and (unless AllowPrivate) hosts that are or resolve to an
// internal address. A host that does not resolve is refused too. It returns the URL in
// canonical form.
func (g *Guard) CheckURL(ctx context.Context, raw string) (string, error) {
	if strings.TrimSpace(raw) != raw || raw == "" {
		return "", &URLError{"the URL is empty or has surrounding spaces"}
	}
	if len(raw) > maxURLLength {
		return "", &URLError{fmt.Sprintf("the URL is longer than %d characters", maxURLLength)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", &URLError{"the URL cannot be parsed"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", &URLError{"only http and https URLs are allowed"}
	}
	host := u.Hostname()
	if host == "" || u.Opaque != "" {
		return "", &URLError{"the URL has no host"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return "", &URLError{"the URL has an invalid port"}
		}
	}
	if g.AllowPrivate {
		return u.String(), nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if Internal(addr) {
			return "", &URLError{"the host is an internal address (loopback, private, link-local, …)"}
		}
		return u.String(), nil
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") || strings.HasSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), ".localhost") {
		return "", &URLError{"the host is an internal address (localhost)"}
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return "", &URLError{"the host name does not resolve"}
	}
	for _, a := range addrs {
		if Internal(a) {
			return "", &URLError{"the host resolves to an internal address (loopback, private, link-local, …)"}
		}
	}
	return u.String(), nil
}

// internalPrefixes are the IPv4 ranges, beyond what netip classifies, that reach this
// host or a network that is not the public internet.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"; 0.0.0.0 reaches localhost on Linux
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking (RFC 2544)
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and 255.255.255.255 broadcast
	netip.MustParsePrefix("fec0::/10"),     // deprecated site-local
	netip.MustParsePrefix("100::/64"),      // discard-only
}

// embeddedV4 are IPv6 prefixes whose low 32 bits name an IPv4 host that a gateway would
// reach on the sender's behalf (NAT64) or that the prefix encodes (6to4 uses bits 16–48).
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// Internal reports whether a is an address webhooks must not reach: loopback, private
// (RFC 1918, and fc00::/7 unique-local), CGNAT, link-local, unspecified, multicast,
// broadcast and other reserved ranges, also when written as an IPv4-mapped, NAT64 or 6to4
// IPv6 address.
func Internal(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.Unmap()
	if a.Is6() {
		switch {
		case nat64Prefix.Contains(a):
			b := a.As16()
			return Internal(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			b := a.As16()
			return Internal(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return true
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the HTTP client for deliveries: Timeout per attempt, no proxy from the
// environment, no redirects (a 3xx is a failed attempt), and unless AllowPrivate a dialer
// that refuses internal addresses at connect time, after DNS resolution.
func (g *Guard) Client() *http.Client {
	d := &net.Dialer{Timeout: Timeout, KeepAlive: 30 * time.Second}
	if !g.AllowPrivate {
		d.Control = controlAddress
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
	}
	return &http.Client{
		Timeout:       Timeout,
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// controlAddress runs after resolution and before connect: address is the IP and port
// the socket is about to reach.
func controlAddress(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || Internal(ap.Addr()) {
		return ErrAddressNotAllowed
	}
	return nil
}
