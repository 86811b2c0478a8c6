package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/tlog"
)

// fakeLog serves a log of records and the checksums of the versions, as
// the registry's API does.
type fakeLog struct {
	signer  *tlog.Signer
	records [][]byte
	served  map[string]string // name@version -> checksum
	// throttled is how many requests to answer 429 before serving.
	throttled int
}

func (f *fakeLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mem, err := tlog.Build(f.records)
	if err != nil {
		panic(err)
	}
	size := int64(len(f.records))
	if f.throttled > 0 {
		f.throttled--
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	switch p := r.URL.Path; {
	case p == "/api/log/key":
		fmt.Fprintln(w, f.signer.VerifierKey())
	case p == "/api/log/checkpoint":
		h, _ := tlog.TreeHash(size, mem)
		cp, _ := f.signer.Sign(tlog.Tree{N: size, Hash: h})
		w.Write(cp)
	case strings.HasPrefix(p, "/api/log/tile/"):
		data, err := tlog.ReadTile(strings.TrimPrefix(p, "/api/log/"), size, mem, func(from, to int64) ([][]byte, error) { return f.records[from:to], nil })
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	case strings.HasPrefix(p, "/api/packages/"):
		name := strings.TrimPrefix(p, "/api/packages/")
		type version struct {
			Version  string `json:"version"`
			Checksum string `json:"checksum"`
		}
		var doc struct {
			Versions []version `json:"versions"`
		}
		for k, sum := range f.served {
			if n, v, _ := strings.Cut(k, "@"); n == name {
				doc.Versions = append(doc.Versions, version{v, sum})
			}
		}
		json.NewEncoder(w).Encode(doc)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeLog) publish(t *testing.T, name, version, sum string) {
	data, err := (&tlog.Record{Kind: tlog.Publish, Package: name, Version: version, SHA256: sum, Actor: "al", Time: time.Unix(1e9, 0)}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	f.records = append(f.records, data)
	f.served[name+"@"+version] = sum
}

func TestLogAuditor(t *testing.T) {
	skey, _ := tlog.GenerateKey("fake")
	signer, _ := tlog.NewSigner(skey)
	f := &fakeLog{signer: signer, served: map[string]string{}}
	sum := func(c string) string { return strings.Repeat(c, 64) }
	for i := range 300 {
		f.publish(t, fmt.Sprintf("p%d", i%7), fmt.Sprintf("1.0.%d", i), sum("a"))
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	state := filepath.Join(t.TempDir(), "state.json")
	f.throttled = 1 // a rate limit is waited out
	audit := func(key string) *LogReport {
		t.Helper()
		a := &LogAuditor{Registry: &Registry{BaseURL: srv.URL}, Key: key, StatePath: state}
		rep, err := a.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := audit(""); len(rep.Problems) != 0 || rep.Publishes != 300 || rep.KeySource != "registry" {
		t.Fatalf("first audit: %+v", rep)
	}
	f.publish(t, "p1", "2.0.0", sum("b"))
	if rep := audit(""); len(rep.Problems) != 0 || rep.KeySource != "state" || rep.Previous == nil || rep.Previous.N != 300 {
		t.Fatalf("audit after growth: %+v", rep)
	}

	// A checksum served that the log does not say.
	f.served["p3@1.0.3"] = sum("c")
	rep := audit("")
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "p3@1.0.3: the log's record #3 says sha256 "+sum("a")+", the registry serves "+sum("c")) {
		t.Errorf("served checksum changed: %q", rep.Problems)
	}
	f.served["p3@1.0.3"] = sum("a")

	// History rewritten consistently: a fork of the tree seen last.
	f.records[3] = []byte(strings.Replace(string(f.records[3]), sum("a"), sum("d"), 1))
	f.served["p3@1.0.3"] = sum("d")
	rep = audit("")
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "the log was rewritten") {
		t.Errorf("forked log: %q", rep.Problems)
	}

	// Another key.
	other, _ := tlog.GenerateKey("fake")
	otherSigner, _ := tlog.NewSigner(other)
	rep = audit(otherSigner.VerifierKey())
	if len(rep.Problems) == 0 || !strings.Contains(strings.Join(rep.Problems, "\n"), "checkpoint not signed by") {
		t.Errorf("checkpoint of another key: %q", rep.Problems)
	}
}
