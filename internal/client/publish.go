package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
)

// Upload is an archive ready to send: a temporary file holding a packed
// folder, or the user's own file.
type Upload struct {
	Path string
	// Temp is set when Path is a temporary file that Close removes.
	Temp bool
	Size int64
	// SHA256 is the hash of the bytes sent.
	SHA256 string
	// Label is name@version, when known before the upload.
	Label string
	// Package describes the canonical archive the registry will store:
	// the packed folder itself, or a file canonicalized for a dry run.
	Package *archive.Package
}

// Close removes the temporary file, if any.
func (u *Upload) Close() {
	if u.Temp {
		os.Remove(u.Path)
	}
}

// PackFolder packs dir canonically into a temporary file, so that its size
// is known before the upload starts and memory stays flat.
func PackFolder(ctx context.Context, dir string) (*Upload, error) {
	f, err := os.CreateTemp("", "dryad-publish-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file: %w", err)
	}
	up := &Upload{Path: f.Name(), Temp: true}
	pkg, err := archive.Pack(ctx, dir, f, archive.Limits{})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing %s: %w", f.Name(), cerr)
	}
	if err != nil {
		up.Close()
		return nil, refusal("packing "+dir, err)
	}
	m, err := manifest.Parse(pkg.Manifest)
	if err != nil {
		up.Close()
		return nil, refusal("checking "+filepath.Join(dir, archive.ManifestName), err)
	}
	up.Size, up.SHA256, up.Package = pkg.Size, pkg.SHA256, pkg
	up.Label = m.Name + "@" + m.Version
	return up, nil
}

// TakeArchive uses a .tar.gz file as it is. With inspect it is also
// canonicalized, to show what the registry would store.
func TakeArchive(ctx context.Context, path string, inspect bool) (*Upload, error) {
	lower := strings.ToLower(path)
	if !strings.HasSuffix(lower, ".tar.gz") && !strings.HasSuffix(lower, ".tgz") {
		return nil, errs.Errorf(errs.Unprocessable, "%s is neither a folder nor a .tar.gz or .tgz file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, err.Error())
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, errs.Errorf(errs.Unavailable, "reading %s: %v", path, err)
	}
	up := &Upload{Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if !inspect {
		return up, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	pkg, err := archive.Canonicalize(ctx, f, io.Discard, "", archive.Limits{})
	if err != nil {
		return nil, refusal("checking "+path, err)
	}
	m, err := manifest.Parse(pkg.Manifest)
	if err != nil {
		return nil, refusal("checking "+path, err)
	}
	up.Package, up.Label = pkg, m.Name+"@"+m.Version
	return up, nil
}

// refusal says what was being done when err happened, keeping its kind.
func refusal(doing string, err error) error {
	if errors.Is(err, context.Canceled) {
		return errs.Wrap(errs.Unavailable, err, "interrupted")
	}
	if k := errs.KindOf(err); k != errs.Internal {
		return errs.Wrap(k, err, doing+": "+errs.Message(err))
	}
	return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("%s: %v", doing, err))
}

// PrintDryRun lists what would be published from path.
func (u *Upload) PrintDryRun(w io.Writer, path string) {
	fmt.Fprintf(w, "%s from %s (dry run: nothing uploaded)\n", u.Label, path)
	files := 0
	for _, f := range u.Package.Files {
		if f.IsDir {
			continue
		}
		files++
		mode := ""
		if f.Mode&0o111 != 0 {
			mode = " (executable)"
		}
		fmt.Fprintf(w, "  %10s  %s%s\n", HumanSize(f.Size), f.Path, mode)
	}
	fmt.Fprintf(w, "%d files, %s unpacked\n", files, HumanSize(u.Package.UnpackedSize))
	if u.Package.Prefix != "" {
		fmt.Fprintf(w, "top-level folder %s/ removed: the files are stored at the archive's root\n", u.Package.Prefix)
	}
	fmt.Fprintf(w, "archive: %s, sha256 %s\n", HumanSize(u.Package.Size), u.Package.SHA256)
	if u.Temp {
		return
	}
	if u.SHA256 != u.Package.SHA256 {
		fmt.Fprintf(w, "the file itself: %s, sha256 %s; the registry stores and serves the canonical archive above\n", HumanSize(u.Size), u.SHA256)
	}
}

// Published is the registry's 201 answer to an upload.
type Published struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Checksum    string `json:"checksum"`
	FileSize    int64  `json:"file_size"`
	DownloadURL string `json:"download_url"`
	URL         string `json:"url"`
}

// Publisher uploads archives to a registry.
type Publisher struct {
	Registry *Registry
	Token    string
	// UserAgent names the client to the registry.
	UserAgent string
	// Progress receives the upload's progress report; nil or Quiet for none.
	Progress io.Writer
	Quiet    bool
}

// Publish streams up to POST /api/upload and returns the registry's answer.
func (p *Publisher) Publish(ctx context.Context, up *Upload) (*Published, error) {
	f, err := os.Open(up.Path)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, err.Error())
	}
	defer f.Close()
	prog := newProgress(p.Progress, up.Size, up.Label, p.Quiet || p.Progress == nil)
	base := p.Registry.BaseURL
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/upload", prog.reader(f))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, err.Error())
	}
	req.ContentLength = up.Size
	// A redirect that keeps the method (307, 308) sends the body again.
	req.GetBody = func() (io.ReadCloser, error) {
		g, err := os.Open(up.Path)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(prog.reader(g)), nil
	}
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", p.UserAgent)
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
			return nil, errs.Wrap(errs.Unavailable, err, "interrupted; nothing was published unless the registry says so")
		}
		return nil, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("cannot reach the registry at %s: %v", base, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return nil, errs.New(statusKind(resp.StatusCode), serverProblem(resp, body))
	}
	var res Published
	if err := json.Unmarshal(body, &res); err != nil || res.Name == "" {
		return nil, errs.Errorf(errs.Unavailable, "the registry answered 201 with an unexpected body: %.200s", body)
	}
	return &res, nil
}

// serverProblem describes a refused upload from the registry's answer.
func serverProblem(resp *http.Response, body []byte) string {
	hint := ""
	if resp.StatusCode == http.StatusUnauthorized {
		hint = " (check the token: it may be mistyped, expired or revoked)"
	}
	return "the registry refused the upload (" + problemText(resp, body) + ")" + hint
}

// problemText describes a refusal from the registry's JSON error
// ({"error", "message"}) or, from anything else, its status and text:
// "404 Not Found: no package x", with the wait a 429 asks for.
func problemText(resp *http.Response, body []byte) string {
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	} else if t := strings.TrimSpace(string(bytes.ToValidUTF8(body, nil))); t != "" {
		msg = strings.Join(strings.Fields(t), " ")
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" && resp.StatusCode == http.StatusTooManyRequests {
		msg += " (retry after " + ra + " s)"
	}
	if msg == "" {
		return status
	}
	return status + ": " + strings.TrimSpace(msg)
}
