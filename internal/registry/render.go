package registry

import "sync"

// Bounds of the rendered-document memo: past either, it starts over.
const (
	maxRenderedDocs  = 4096
	maxRenderedBytes = 32 << 20
)

// renderMemo keeps documents rendered for a base URL, so that the hot path
// of GET /api/packages/{name} serves bytes without copying the document,
// escaping the base URL and hashing it on every request (measured: about
// 40% of the handler's time and most of its garbage). It is keyed by the
// document's ETag, a hash of its content, so an entry can never be stale and
// nothing needs invalidating when a package changes: a changed document has
// another ETag. It lives in each process; the cache shared by instances
// keeps only the base-free document.
type renderMemo struct {
	mu    sync.RWMutex
	m     map[renderKey]rendered
	bytes int
}

type renderKey struct{ etag, base string }

type rendered struct {
	body []byte
	etag string
}

// RenderDocument returns d with baseURL in place and its ETag, as
// Document.Render does, from the memo when it was rendered before.
func (s *Service) RenderDocument(d *Document, baseURL string) ([]byte, string) {
	k := renderKey{d.ETag, baseURL}
	s.renders.mu.RLock()
	r, ok := s.renders.m[k]
	s.renders.mu.RUnlock()
	if ok {
		return r.body, r.etag
	}
	body, etag := d.Render(baseURL)
	size := len(body) + len(k.etag) + len(k.base) + len(etag)
	s.renders.mu.Lock()
	defer s.renders.mu.Unlock()
	// Base URLs come from the Host header unless PUBLIC_URL is set, so
	// their number is not ours to bound: starting over keeps memory
	// bounded whatever clients send.
	if s.renders.m == nil || len(s.renders.m) >= maxRenderedDocs || s.renders.bytes+size > maxRenderedBytes {
		s.renders.m = make(map[renderKey]rendered)
		s.renders.bytes = 0
	}
	s.renders.m[k] = rendered{body: body, etag: etag}
	s.renders.bytes += size
	return body, etag
}
