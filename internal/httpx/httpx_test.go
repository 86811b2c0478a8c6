package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestResolve(t *testing.T) {
	lo := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		proxies Proxies
		remote  string
		headers map[string]string
		ip      string
		base    string
		secure  bool
	}{
		{"direct", Proxies{}, "192.0.2.7:5000", map[string]string{"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}, "192.0.2.7", "http://example.org", false},
		{"trusted proxy", Proxies{Trusted: lo}, "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "reg.example"}, "203.0.113.9", "https://reg.example", true},
		{"spoofed chain", Proxies{Trusted: lo}, "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.1.1"}, "203.0.113.9", "http://example.org", false},
		{"real ip", Proxies{Trusted: lo}, "127.0.0.1:5000", map[string]string{"X-Real-IP": "203.0.113.10"}, "203.0.113.10", "http://example.org", false},
		{"bad forwarded host", Proxies{Trusted: lo}, "127.0.0.1:5000", map[string]string{"X-Forwarded-Host": `evil"><script>`}, "127.0.0.1", "http://example.org", false},
		{"public url wins", Proxies{PublicURL: "https://registry.example"}, "192.0.2.7:5000", nil, "192.0.2.7", "https://registry.example", true},
		{"garbage xff", Proxies{Trusted: lo}, "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "nope"}, "127.0.0.1", "http://example.org", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://example.org/api", nil)
		r.RemoteAddr = tt.remote
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		c := tt.proxies.Resolve(r)
		if c.IP != tt.ip || c.BaseURL != tt.base || c.Secure != tt.secure {
			t.Errorf("%s: got %+v, want ip %s base %s secure %v", tt.name, c, tt.ip, tt.base, tt.secure)
		}
	}
}
