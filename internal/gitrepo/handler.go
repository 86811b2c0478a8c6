package gitrepo

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/url"
	"regexp"
	"strings"
)

// readOnlyMessage is what a refused push shows; stock git prints a text/plain
// error body to the user, each line prefixed with "remote:".
const readOnlyMessage = "The Dryad registry's git repositories are read-only: they are built from published versions.\n" +
	"To change a package, publish a new version through the registry API (POST /api/upload or dryad-registry publish).\n"

// gitProtocolRE bounds the Git-Protocol header (e.g. "version=2") before it
// becomes an environment variable of git.
var gitProtocolRE = regexp.MustCompile(`^[A-Za-z0-9=:._-]{1,64}$`)

// Handler serves the repositories read-only over git's smart HTTP protocol,
// for paths /git/{name}.git/info/refs?service=git-upload-pack and
// /git/{name}.git/git-upload-pack (the ".git" suffix may be left out, as
// clients allow). Pushes get 403 with a message; anything else is 404.
// The request is answered by `git http-backend`, run through CGI.
func (r *Repos) Handler() http.Handler {
	env := append(baseEnv(r.git, [][2]string{{"http.receivepack", "false"}, {"http.getanyfile", "false"}}),
		"GIT_PROJECT_ROOT="+r.root,
		"GIT_HTTP_EXPORT_ALL=1",
	)
	return &handler{repos: r, env: env}
}

type handler struct {
	repos *Repos
	env   []string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// The name is checked before anything touches the filesystem.
	name, endpoint, ok := parseGitPath(req.URL.Path)
	if !ok {
		plain(w, http.StatusNotFound, "Not found: git repositories are served at /git/{name}.git\n")
		return
	}
	switch endpoint {
	case "info/refs":
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		switch req.URL.Query().Get("service") {
		case "git-upload-pack":
		case "git-receive-pack":
			plain(w, http.StatusForbidden, readOnlyMessage)
			return
		default:
			// The dumb protocol would need server-side info files.
			plain(w, http.StatusNotFound, "Not found: only git's smart HTTP protocol is served; use git 1.6.6 or later\n")
			return
		}
	case "git-upload-pack":
		if req.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
	case "git-receive-pack":
		plain(w, http.StatusForbidden, readOnlyMessage)
		return
	}
	exists, err := h.repos.exists(name)
	if err != nil {
		h.repos.log.Error("git http: checking repository", "package", name, "err", err)
		plain(w, http.StatusServiceUnavailable, "The git repositories are unavailable; try again later.\n")
		return
	}
	if !exists {
		plain(w, http.StatusNotFound, "Not found: package "+name+" has no git repository\n")
		return
	}
	if endpoint == "git-upload-pack" && req.ContentLength > h.repos.maxBody {
		plain(w, http.StatusRequestEntityTooLarge, "Request body too large\n")
		return
	}
	h.serveCGI(w, req, name, endpoint)
}

// parseGitPath splits /git/{name}[.git]/{endpoint}, accepting only valid
// package names and the three smart-HTTP endpoints.
func parseGitPath(p string) (name, endpoint string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/git/")
	if !ok {
		return "", "", false
	}
	repo, endpoint, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	switch endpoint {
	case "info/refs", "git-upload-pack", "git-receive-pack":
	default:
		return "", "", false
	}
	name = strings.TrimSuffix(repo, ".git")
	if !nameRE.MatchString(name) {
		return "", "", false
	}
	return name, endpoint, true
}

// serveCGI hands a checked request to git http-backend. The request it sees
// is rebuilt from the parsed name, so nothing of the original path reaches
// git, and its body is decompressed and bounded here.
func (h *handler) serveCGI(w http.ResponseWriter, req *http.Request, name, endpoint string) {
	ctx := req.Context()
	log := h.repos.log.With("package", name, "endpoint", endpoint)
	out := req.Clone(ctx)
	out.URL = &url.URL{Path: "/" + name + ".git/" + endpoint}
	if endpoint == "info/refs" {
		out.URL.RawQuery = "service=git-upload-pack"
	}
	out.RequestURI = out.URL.RequestURI()
	// Every header becomes an environment variable of git: pass only what
	// the protocol needs.
	out.Header = http.Header{}
	for _, k := range []string{"Content-Type", "Accept", "User-Agent"} {
		if v := req.Header.Get(k); v != "" {
			out.Header.Set(k, v)
		}
	}
	env := h.env
	if p := req.Header.Get("Git-Protocol"); gitProtocolRE.MatchString(p) {
		env = append(env[:len(env):len(env)], "GIT_PROTOCOL="+p)
	}
	if req.Method == http.MethodPost {
		body, err := h.requestBody(req)
		if err != nil {
			plain(w, http.StatusBadRequest, "Bad request body: "+err.Error()+"\n")
			return
		}
		defer body.Close()
		out.Body = body
		// Unknown length: http-backend reads to the end of the stream.
		out.ContentLength = -1
		out.TransferEncoding = nil
	}
	cgiHandler := &cgi.Handler{
		Path:   h.repos.git,
		Args:   []string{"http-backend"},
		Dir:    h.repos.root,
		Env:    env,
		Logger: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Stderr: &logWriter{log: log},
	}
	cgiHandler.ServeHTTP(&streamWriter{ResponseWriter: w, ctx: ctx}, out)
}

// requestBody returns the POST body, gunzipped when git compressed it (git
// does for large negotiations), bounded after decompression so that a small
// compressed body cannot expand without limit.
func (h *handler) requestBody(req *http.Request) (io.ReadCloser, error) {
	var body io.ReadCloser = req.Body
	switch enc := strings.ToLower(req.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, err
		}
		body = struct {
			io.Reader
			io.Closer
		}{gz, req.Body}
	default:
		return nil, errors.New("unsupported Content-Encoding " + enc)
	}
	return &ctxReader{ReadCloser: body, ctx: req.Context(), left: h.repos.maxBody}, nil
}

// errBodyTooLarge ends a request body over the limit. (http.MaxBytesReader
// cannot be used: it touches the ResponseWriter from the goroutine that
// feeds git.)
var errBodyTooLarge = errors.New("request body too large")

// ctxReader stops feeding git once the request is cancelled or the body
// passes its limit.
type ctxReader struct {
	io.ReadCloser
	ctx  context.Context
	left int64
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.left <= 0 {
		// Over the limit only if there is more to read.
		var one [1]byte
		for {
			n, err := r.ReadCloser.Read(one[:])
			if n > 0 {
				return 0, errBodyTooLarge
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.ReadCloser.Read(p)
	r.left -= int64(n)
	return n, err
}

// streamWriter flushes every write, so that git's progress and keep-alive
// packets reach the client at once, and fails writes once the request is
// cancelled, which makes net/http/cgi kill git http-backend.
type streamWriter struct {
	http.ResponseWriter
	ctx context.Context
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.ResponseWriter.Write(p)
	if err != nil {
		return n, err
	}
	if err := http.NewResponseController(s.ResponseWriter).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return n, err
	}
	return n, nil
}

// logWriter sends what git writes on stderr to the log.
type logWriter struct{ log *slog.Logger }

func (l *logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		if line != "" {
			l.log.Warn("git http-backend", "stderr", line)
		}
	}
	return len(p), nil
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	plain(w, http.StatusMethodNotAllowed, "Method not allowed\n")
}

// Unavailable answers every git request with 503 and reason, for a registry
// on which git cannot run: clients then say why instead of "not found".
func Unavailable(reason string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "60")
		plain(w, http.StatusServiceUnavailable, reason+"\n")
	})
}
