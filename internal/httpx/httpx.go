// Package httpx holds what the HTTP layers (api, web, gitrepo, server)
// share about a request: its id, the client's address and the base URL,
// which depend on the trusted proxies in front of the registry.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// requestKey is the context key of a request's requestInfo: one context
// value, set once by the server, rather than one per fact, because every
// value costs the hot path a context and a copy of the request.
type requestKey struct{}

type requestInfo struct {
	id     string
	client Client
}

// Client is what the server learned about a request's origin.
type Client struct {
	// IP is the client's address: the connection's peer, or the address a
	// trusted proxy forwarded.
	IP string
	// BaseURL is scheme://host of the registry as the client reached it.
	BaseURL string
	// Secure reports whether the client used HTTPS.
	Secure bool
}

// Proxies decides which peers' forwarding headers are believed.
type Proxies struct {
	Trusted []netip.Prefix
	// PublicURL, when set, is the base URL whatever the request says.
	PublicURL string
}

func (p Proxies) trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, pr := range p.Trusted {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

// Resolve works out the client of a request. X-Forwarded-For, X-Real-IP,
// X-Forwarded-Proto and X-Forwarded-Host are read only when the direct
// peer is a trusted proxy; otherwise anyone could claim any address.
func (p Proxies) Resolve(r *http.Request) Client {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	c := Client{IP: host, Secure: r.TLS != nil}
	peer, perr := netip.ParseAddr(host)
	trusted := perr == nil && p.trusts(peer)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	reqHost := r.Host
	if trusted {
		if ip := forwardedClient(r.Header.Get("X-Forwarded-For"), p); ip != "" {
			c.IP = ip
		} else if ip := strings.TrimSpace(r.Header.Get("X-Real-IP")); validIP(ip) {
			c.IP = ip
		}
		if proto := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto"))); proto == "https" || proto == "http" {
			scheme = proto
			c.Secure = proto == "https"
		}
		if h := strings.TrimSpace(r.Header.Get("X-Forwarded-Host")); h != "" && validHost(h) {
			reqHost = h
		}
	}
	if p.PublicURL != "" {
		c.BaseURL = p.PublicURL
		c.Secure = c.Secure || strings.HasPrefix(p.PublicURL, "https:")
	} else {
		if !validHost(reqHost) {
			reqHost = "localhost"
		}
		c.BaseURL = scheme + "://" + reqHost
	}
	return c
}

// forwardedClient walks X-Forwarded-For from the right, skipping trusted
// proxies, and returns the first address that is not one: the client as
// seen by the outermost proxy we trust.
func forwardedClient(xff string, p Proxies) string {
	if xff == "" {
		return ""
	}
	parts := strings.Split(xff, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		s := strings.TrimSpace(parts[i])
		a, err := netip.ParseAddr(s)
		if err != nil {
			return ""
		}
		if !p.trusts(a) || i == 0 {
			return a.Unmap().String()
		}
	}
	return ""
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// validHost accepts host names and host:port made of the characters DNS
// names and IP literals use, so a header cannot smuggle anything into URLs.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// WithRequest stores a request's id and client in the context.
func WithRequest(ctx context.Context, id string, c Client) context.Context {
	return context.WithValue(ctx, requestKey{}, &requestInfo{id: id, client: c})
}

// ClientOf returns the request's client (resolved by the server's
// middleware), or what the request alone says when there is none.
func ClientOf(r *http.Request) Client {
	if info, ok := r.Context().Value(requestKey{}).(*requestInfo); ok {
		return info.client
	}
	return Proxies{}.Resolve(r)
}

// RequestID returns the request id of a context, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// NewRequestID returns a random request id.
func NewRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
