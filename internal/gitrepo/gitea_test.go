package gitrepo

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

// testToken is the token of the recorded exchanges.
const testToken = "0123456789abcdef0123456789abcdef01234567"

// exchange is one recorded request to Gitea and its answer.
type exchange struct {
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

// replay serves a recorded exchange: each request must match the next
// recorded one (method, path, headers, JSON body), and gets its response.
// At the end of the test every recorded request must have been made.
func replay(t *testing.T, file string) *httptest.Server {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "gitea", file))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ Exchanges []exchange }
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(rec.Exchanges) {
			t.Errorf("unexpected request %s %s", req.Method, req.URL.Path)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		ex := rec.Exchanges[next]
		next++
		if req.Method != ex.Request.Method || req.URL.Path != ex.Request.Path {
			t.Errorf("request %d: %s %s, recorded %s %s", next, req.Method, req.URL.Path, ex.Request.Method, ex.Request.Path)
		}
		for k, v := range ex.Request.Headers {
			if got := req.Header.Get(k); got != v {
				t.Errorf("request %d: header %s = %q, recorded %q", next, k, got, v)
			}
		}
		body, _ := io.ReadAll(req.Body)
		if len(ex.Request.Body) > 0 {
			var got, want any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Errorf("request %d: body is not JSON: %q", next, body)
			}
			json.Unmarshal(ex.Request.Body, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("request %d: body %s, recorded %s", next, body, ex.Request.Body)
			}
		}
		for k, v := range ex.Response.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ex.Response.Status)
		w.Write(ex.Response.Body)
	}))
	t.Cleanup(func() {
		srv.Close()
		if next != len(rec.Exchanges) {
			t.Errorf("%s: %d of %d recorded requests were made", file, next, len(rec.Exchanges))
		}
	})
	return srv
}

func TestGiteaEnsureRepo(t *testing.T) {
	tests := []struct {
		file    string
		wantErr []string // all of these in the error message; nil: success
	}{
		{"create.json", nil},
		{"exists.json", nil},
		{"race.json", nil},
		{"unauthorized.json", []string{"GITEA_TOKEN", "401", "token is required"}},
		{"forbidden.json", []string{"403", "organisation dryad", "not allowed"}},
		{"no_org.json", []string{"GITEA_ORG", `"dryad"`}},
		{"server_error.json", []string{"500", "database is locked"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			srv := replay(t, tt.file)
			g := &Gitea{BaseURL: srv.URL + "/", Token: testToken}
			err := g.EnsureRepo(t.Context(), "demo", "A demo package")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, errs.Unavailable) {
				t.Fatalf("err = %v, want an Unavailable error", err)
			}
			msg := errs.Message(err)
			for _, want := range tt.wantErr {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, testToken) {
				t.Errorf("message shows the token: %q", msg)
			}
		})
	}
}

func TestGiteaRefusesBadNamesAndUnreachableServers(t *testing.T) {
	g := &Gitea{BaseURL: "http://127.0.0.1:1", Token: testToken}
	if err := g.EnsureRepo(t.Context(), "../admin", ""); !errors.Is(err, errs.Invalid) {
		t.Errorf("bad name: %v, want Invalid", err)
	}
	if err := g.EnsureRepo(t.Context(), "demo", ""); !errors.Is(err, errs.Unavailable) {
		t.Errorf("unreachable server: %v, want Unavailable", err)
	}
}
