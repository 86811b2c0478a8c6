package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
)

const publishUsage = "publish [DIR|FILE] [--registry URL|NAME] [--token T | --token-file F | --token-stdin] [--dry-run]"

// oakRegistryFile is the name of the file `oak registry add` and
// `oak registry set-default` write in the current folder.
const oakRegistryFile = "oak-registry.json"

// progressThreshold is the upload size from which progress is reported even
// when standard error is not a terminal (a log, CI).
const progressThreshold = 1 << 20

// publishOptions are the parsed flags of the publish command.
type publishOptions struct {
	path                  string
	registry              string
	token, tokenFile      string
	tokenStdin            bool
	dryRun, quiet         bool
	registryFromOakConfig string // the name in oak-registry.json, for messages
}

// runPublish packs a package folder canonically (or takes a .tar.gz as it
// is) and uploads it to a registry's POST /api/upload.
func runPublish(ctx context.Context, env *environment, args []string) error {
	o, err := parsePublishFlags(env, args)
	if err != nil {
		return err
	}
	src := o.path
	if !filepath.IsAbs(src) {
		src = filepath.Join(env.workDir, src)
	}
	info, err := os.Stat(src)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("publish: %s: no such folder or file", o.path)}
	}

	// Credentials and the registry are settled before any packing, so that
	// a mistake there is reported at once.
	var base, token string
	if !o.dryRun {
		if base, err = publishRegistry(env, o); err != nil {
			return err
		}
		if token, err = publishToken(env, o); err != nil {
			return err
		}
	}

	var up *upload
	if info.IsDir() {
		up, err = packFolder(ctx, src)
	} else {
		up, err = takeArchive(ctx, src, o.dryRun)
	}
	if err != nil {
		return err
	}
	defer up.close()

	if o.dryRun {
		printDryRun(env.stdout, o.path, up)
		return nil
	}
	what := up.label
	if what == "" {
		what = filepath.Base(src)
	}
	via := ""
	if o.registryFromOakConfig != "" {
		via = " (registry " + o.registryFromOakConfig + " of " + oakRegistryFile + ")"
	}
	fmt.Fprintf(env.stderr, "publishing %s (%s) to %s%s\n", what, humanSize(up.size), base, via)
	return sendUpload(ctx, env, o, base, token, up)
}

// parsePublishFlags reads the flags, which may come before or after the
// folder or file.
func parsePublishFlags(env *environment, args []string) (*publishOptions, error) {
	o := &publishOptions{}
	fs := newFlagSet(env, "publish", publishUsage)
	fs.StringVar(&o.registry, "registry", "", "registry URL, or the NAME of a registry in ./"+oakRegistryFile+" (default: its default_registry)")
	fs.StringVar(&o.token, "token", "", "API token or login token to publish with (other local users can see it in the process list: prefer --token-file or --token-stdin)")
	fs.StringVar(&o.tokenFile, "token-file", "", "read the token from this file")
	fs.BoolVar(&o.tokenStdin, "token-stdin", false, "read the token from standard input (prompted without echo on a terminal)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "pack and list what would be published, without uploading")
	fs.BoolVar(&o.quiet, "quiet", false, "do not report upload progress")
	var positional []string
	rest := args
	for {
		if err := parseFlags(fs, env, rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch len(positional) {
	case 0:
		o.path = "."
	case 1:
		o.path = positional[0]
	default:
		return nil, &exitError{code: 2, msg: fmt.Sprintf("publish: give one folder or .tar.gz file, not %d (%s)", len(positional), strings.Join(positional, " "))}
	}
	n := 0
	for _, set := range []bool{o.token != "", o.tokenFile != "", o.tokenStdin} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, &exitError{code: 2, msg: "publish: use only one of --token, --token-file and --token-stdin"}
	case n == 0 && !o.dryRun:
		return nil, &exitError{code: 2, msg: "publish: a token is needed: --token T, --token-file FILE or --token-stdin (create one with POST /api/tokens or on your dashboard)"}
	}
	return o, nil
}

// publishRegistry returns the registry's base URL, without a trailing
// slash: --registry as a URL, or a registry named in oak-registry.json.
func publishRegistry(env *environment, o *publishOptions) (string, error) {
	raw := o.registry
	if raw == "" || !strings.Contains(raw, "://") {
		cfgPath := filepath.Join(env.workDir, oakRegistryFile)
		b, err := os.ReadFile(cfgPath)
		if errors.Is(err, os.ErrNotExist) {
			if raw != "" {
				return "", &exitError{code: 2, msg: fmt.Sprintf("publish: --registry %q is not a URL and there is no %s here to look the name up in", raw, oakRegistryFile)}
			}
			return "", &exitError{code: 2, msg: "publish: which registry? pass --registry URL (or run `oak registry add NAME URL` and `oak registry set-default NAME` in this folder)"}
		}
		if err != nil {
			return "", &exitError{code: 1, msg: fmt.Sprintf("publish: reading %s: %v", oakRegistryFile, err)}
		}
		var cfg struct {
			DefaultRegistry string            `json:"default_registry"`
			Registries      map[string]string `json:"registries"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return "", &exitError{code: 1, msg: fmt.Sprintf("publish: %s is not valid JSON (%v); pass --registry URL", oakRegistryFile, err)}
		}
		name := raw
		if name == "" {
			name = cfg.DefaultRegistry
		}
		u, ok := cfg.Registries[name]
		if !ok || name == "" {
			return "", &exitError{code: 2, msg: fmt.Sprintf("publish: %s has no registry named %q; pass --registry URL", oakRegistryFile, name)}
		}
		o.registryFromOakConfig = name
		raw = u
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", &exitError{code: 2, msg: fmt.Sprintf("publish: registry URL %q: want http(s)://host[:port][/path]", raw)}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// publishToken reads the token from its flag, file or standard input.
func publishToken(env *environment, o *publishOptions) (string, error) {
	var tok string
	switch {
	case o.token != "":
		tok = o.token
	case o.tokenFile != "":
		p := o.tokenFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(env.workDir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", &exitError{code: 1, msg: fmt.Sprintf("publish: reading --token-file: %v", err)}
		}
		tok = string(b)
	default:
		if f, ok := env.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(env.stderr, "Token: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.stderr)
			if err != nil {
				return "", &exitError{code: 1, msg: fmt.Sprintf("publish: reading the token: %v", err)}
			}
			tok = string(b)
			break
		}
		line, err := bufio.NewReader(env.stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", &exitError{code: 1, msg: fmt.Sprintf("publish: reading the token from standard input: %v", err)}
		}
		tok = line
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", &exitError{code: 2, msg: "publish: the token is empty"}
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", &exitError{code: 2, msg: "publish: the token contains spaces or several lines; give the token alone"}
	}
	return tok, nil
}

// upload is an archive ready to send: a temporary file holding the packed
// folder, or the user's own file.
type upload struct {
	path  string
	temp  bool
	size  int64
	sum   string // SHA-256 of the bytes sent
	label string // name@version, when known before the upload
	// pkg describes the canonical archive the registry will store: the
	// packed folder itself, or a FILE canonicalized for a dry run.
	pkg *archive.Package
}

func (u *upload) close() {
	if u.temp {
		os.Remove(u.path)
	}
}

// packFolder packs dir canonically into a temporary file, so that its size
// is known before the upload starts and memory stays flat.
func packFolder(ctx context.Context, dir string) (*upload, error) {
	f, err := os.CreateTemp("", "dryad-publish-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("publish: creating a temporary file: %w", err)
	}
	up := &upload{path: f.Name(), temp: true}
	pkg, err := archive.Pack(ctx, dir, f, archive.Limits{})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("publish: writing %s: %w", f.Name(), cerr)
	}
	if err != nil {
		up.close()
		return nil, userError("packing "+dir, err)
	}
	m, err := manifest.Parse(pkg.Manifest)
	if err != nil {
		up.close()
		return nil, userError("checking "+filepath.Join(dir, archive.ManifestName), err)
	}
	up.size, up.sum, up.pkg = pkg.Size, pkg.SHA256, pkg
	up.label = m.Name + "@" + m.Version
	return up, nil
}

// takeArchive uses a .tar.gz file as it is. For a dry run it is also
// canonicalized, to show what the registry would store.
func takeArchive(ctx context.Context, path string, dryRun bool) (*upload, error) {
	lower := strings.ToLower(path)
	if !strings.HasSuffix(lower, ".tar.gz") && !strings.HasSuffix(lower, ".tgz") {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("publish: %s is neither a folder nor a .tar.gz or .tgz file", path)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("publish: %v", err)}
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("publish: reading %s: %v", path, err)}
	}
	up := &upload{path: path, size: n, sum: hex.EncodeToString(h.Sum(nil))}
	if !dryRun {
		return up, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	pkg, err := archive.Canonicalize(ctx, f, io.Discard, "", archive.Limits{})
	if err != nil {
		return nil, userError("checking "+path, err)
	}
	m, err := manifest.Parse(pkg.Manifest)
	if err != nil {
		return nil, userError("checking "+path, err)
	}
	up.pkg, up.label = pkg, m.Name+"@"+m.Version
	return up, nil
}

// userError turns a refusal into exit status 1 with its message; other
// errors keep their detail.
func userError(doing string, err error) error {
	if errors.Is(err, context.Canceled) {
		return &exitError{code: 1, msg: "publish: interrupted"}
	}
	if k := errs.KindOf(err); k != errs.Internal {
		return &exitError{code: 1, msg: fmt.Sprintf("publish: %s: %s", doing, errs.Message(err))}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("publish: %s: %v", doing, err)}
}

// printDryRun lists what would be published.
func printDryRun(w io.Writer, path string, up *upload) {
	fmt.Fprintf(w, "%s from %s (dry run: nothing uploaded)\n", up.label, path)
	files := 0
	for _, f := range up.pkg.Files {
		if f.IsDir {
			continue
		}
		files++
		mode := ""
		if f.Mode&0o111 != 0 {
			mode = " (executable)"
		}
		fmt.Fprintf(w, "  %10s  %s%s\n", humanSize(f.Size), f.Path, mode)
	}
	fmt.Fprintf(w, "%d files, %s unpacked\n", files, humanSize(up.pkg.UnpackedSize))
	if up.pkg.Prefix != "" {
		fmt.Fprintf(w, "top-level folder %s/ removed: the files are stored at the archive's root\n", up.pkg.Prefix)
	}
	fmt.Fprintf(w, "archive: %s, sha256 %s\n", humanSize(up.pkg.Size), up.pkg.SHA256)
	if up.temp {
		return
	}
	if up.sum != up.pkg.SHA256 {
		fmt.Fprintf(w, "the file itself: %s, sha256 %s; the registry stores and serves the canonical archive above\n", humanSize(up.size), up.sum)
	}
}

// publishResult is the registry's 201 answer to an upload.
type publishResult struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Checksum    string `json:"checksum"`
	FileSize    int64  `json:"file_size"`
	DownloadURL string `json:"download_url"`
	URL         string `json:"url"`
}

// sendUpload streams the archive to POST /api/upload and prints the answer.
func sendUpload(ctx context.Context, env *environment, o *publishOptions, base, token string, up *upload) error {
	f, err := os.Open(up.path)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("publish: %v", err)}
	}
	defer f.Close()
	prog := newProgress(env.stderr, up.size, up.label, o.quiet)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/upload", prog.reader(f))
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("publish: %v", err)}
	}
	req.ContentLength = up.size
	// A redirect that keeps the method (307, 308) sends the body again.
	req.GetBody = func() (io.ReadCloser, error) {
		g, err := os.Open(up.path)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(prog.reader(g)), nil
	}
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dryad-registry-publish/"+version)
	client := &http.Client{
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if r.Method != http.MethodPost {
				// 301, 302 and 303 turn the upload into a GET without
				// a body and without the token: say so instead.
				return fmt.Errorf("the registry redirects uploads to %s, which would drop the package; use that URL as --registry", r.URL.Redacted())
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	prog.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &exitError{code: 1, msg: "publish: interrupted; nothing was published unless the registry says so"}
		}
		return &exitError{code: 1, msg: fmt.Sprintf("publish: cannot reach the registry at %s: %v", base, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return &exitError{code: 1, msg: "publish: " + serverProblem(resp, body)}
	}
	var res publishResult
	if err := json.Unmarshal(body, &res); err != nil || res.Name == "" {
		return &exitError{code: 1, msg: fmt.Sprintf("publish: the registry answered 201 with an unexpected body: %.200s", body)}
	}
	fmt.Fprintf(env.stdout, "published %s@%s\n", res.Name, res.Version)
	fmt.Fprintf(env.stdout, "  checksum  %s\n", res.Checksum)
	fmt.Fprintf(env.stdout, "  size      %s\n", humanSize(res.FileSize))
	fmt.Fprintf(env.stdout, "  download  %s\n", res.DownloadURL)
	if res.URL != "" {
		fmt.Fprintf(env.stdout, "  page      %s\n", res.URL)
	}
	return nil
}

// serverProblem describes a refused upload from the registry's JSON error
// ({"error", "message"}) or, from anything else, its status and text.
func serverProblem(resp *http.Response, body []byte) string {
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	} else if t := strings.TrimSpace(string(bytes.ToValidUTF8(body, nil))); t != "" {
		msg = t
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
	}
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint = " (check the token: it may be mistyped, expired or revoked)"
	case http.StatusTooManyRequests:
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			hint = " (retry after " + ra + " s)"
		}
	}
	if msg == "" {
		return "the registry refused the upload: " + status + hint
	}
	return "the registry refused the upload (" + status + "): " + msg + hint
}

// progress reports an upload's progress on standard error: a bar redrawn
// in place on a terminal, a line every 10% elsewhere when the upload is
// large enough for that to help, and nothing for small ones.
type progress struct {
	w     io.Writer
	total int64
	label string
	tty   bool
	off   bool

	mu sync.Mutex
	// finished is set once the request is over: the HTTP transport may
	// still be reading the body in its own goroutine after the registry
	// answered early (a refusal before the whole body arrived), and
	// nothing may reach the writer after the command moved on to print
	// the answer.
	finished  bool
	done      int64
	start     time.Time
	lastDraw  time.Time
	lastTenth int64
	drawn     bool
}

func newProgress(w io.Writer, total int64, label string, quiet bool) *progress {
	p := &progress{w: w, total: total, label: label, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	p.off = quiet || total <= 0 || (!p.tty && total < progressThreshold)
	if p.label == "" {
		p.label = "package"
	}
	return p
}

// reader counts what r yields; a new reader (a resent body) starts over.
func (p *progress) reader(r io.Reader) io.Reader {
	p.mu.Lock()
	p.done, p.lastTenth, p.finished = 0, 0, false
	p.mu.Unlock()
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.p.add(int64(n))
	}
	return n, err
}

func (p *progress) add(n int64) {
	if p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done += n
	if p.tty {
		if now := time.Now(); now.Sub(p.lastDraw) >= 100*time.Millisecond || p.done >= p.total {
			p.lastDraw = now
			p.draw()
		}
		return
	}
	if tenth := p.done * 10 / p.total; tenth > p.lastTenth {
		p.lastTenth = tenth
		fmt.Fprintf(p.w, "uploading %s: %3d%% (%s of %s)\n", p.label, min(tenth*10, 100), humanSize(min(p.done, p.total)), humanSize(p.total))
	}
}

// draw redraws the bar: [#####.....]  45%  45.0 MiB / 100.0 MiB  12.3 MiB/s
func (p *progress) draw() {
	const width = 30
	done := min(p.done, p.total)
	filled := int(done * width / p.total)
	rate := ""
	if secs := time.Since(p.start).Seconds(); secs > 0.2 {
		rate = "  " + humanSize(int64(float64(done)/secs)) + "/s"
	}
	fmt.Fprintf(p.w, "\r\x1b[Kuploading %s [%s%s] %3d%%  %s / %s%s", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/p.total,
		humanSize(done), humanSize(p.total), rate)
	p.drawn = true
}

// finish ends the bar's line once the upload is over.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// humanSize writes a byte count for people: 512 B, 3.4 KiB, 100.0 MiB.
func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
