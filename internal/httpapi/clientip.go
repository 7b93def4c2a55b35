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
// trusted proxy, in which case the rightmost untrusted address of X-Forwarded-For (or
// Forwarded). A client that connects directly cannot choose its IP by sending a header.
type ClientIP struct {
	trusted  []netip.Prefix
	xff, fwd realclientip.Strategy
}

// NewClientIP takes the --trusted-proxies CIDRs (bare addresses count as /32 or /128).
func NewClientIP(cidrs []string) (*ClientIP, error) {
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
		var err error
		if c.xff, err = realclientip.NewRightmostTrustedRangeStrategy("X-Forwarded-For", nets); err != nil {
			return nil, err
		}
		if c.fwd, err = realclientip.NewRightmostTrustedRangeStrategy("Forwarded", nets); err != nil {
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
		for _, st := range []realclientip.Strategy{c.xff, c.fwd} {
			if ip := st.ClientIP(r.Header, r.RemoteAddr); ip != "" {
				if a, err := netip.ParseAddr(ip); err == nil {
					return a.Unmap().String()
				}
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
