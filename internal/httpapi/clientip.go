package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/realclientip/realclientip-go"
)

// ClientIP resolves the client address of a request: the TCP peer, unless the peer is a
// trusted proxy, in which case the rightmost untrusted address of the one header the proxy
// is configured to set (--client-ip-header: X-Forwarded-For or Forwarded). A client that
// connects directly cannot choose its IP by sending a header, nor can a client behind the
// proxy by sending the other header, which the proxy passes through untouched.
type ClientIP struct {
	trusted []netip.Prefix
	header  realclientip.Strategy
}

// Client IP headers a proxy may be configured to set (--client-ip-header).
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// NewClientIP takes the --trusted-proxies CIDRs (bare addresses count as /32 or /128) and
// believes X-Forwarded-For from them.
func NewClientIP(cidrs []string) (*ClientIP, error) {
	return NewClientIPHeader(cidrs, HeaderXForwardedFor)
}

// ParseClientIPHeader checks a --client-ip-header value (case-insensitive) and returns its
// canonical spelling.
func ParseClientIPHeader(h string) (string, error) {
	switch {
	case strings.EqualFold(strings.TrimSpace(h), HeaderXForwardedFor):
		return HeaderXForwardedFor, nil
	case strings.EqualFold(strings.TrimSpace(h), HeaderForwarded):
		return HeaderForwarded, nil
	}
	return "", fmt.Errorf("client IP header %q: want %s or %s", h, HeaderXForwardedFor, HeaderForwarded)
}

// NewClientIPHeader is NewClientIP believing only header (see ParseClientIPHeader) from
// the trusted proxies.
func NewClientIPHeader(cidrs []string, header string) (*ClientIP, error) {
	header, err := ParseClientIPHeader(header)
	if err != nil {
		return nil, err
	}
	c := &ClientIP{}
	var nets []net.IPNet
	for _, raw := range cidrs {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			a, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q: not a CIDR or address", raw)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.trusted = append(c.trusted, p.Masked())
		_, n, _ := net.ParseCIDR(p.Masked().String())
		nets = append(nets, *n)
	}
	if len(nets) > 0 {
		if c.header, err = realclientip.NewRightmostTrustedRangeStrategy(header, nets); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Of returns the client IP of r as a canonical string.
func (c *ClientIP) Of(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if c.isTrusted(peer) {
		if ip := c.header.ClientIP(r.Header, r.RemoteAddr); ip != "" {
			if a, err := netip.ParseAddr(ip); err == nil {
				return a.Unmap().String()
			}
		}
	}
	return peer.String()
}

func (c *ClientIP) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(remote)
	return a.Unmap()
}
