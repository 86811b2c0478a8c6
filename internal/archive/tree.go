package archive

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// node is one file or directory of the package being assembled.
type node struct {
	path     string // as in the upload, cleaned; no trailing slash
	dir      bool
	explicit bool  // the upload had an entry for it (else it is a parent)
	exec     bool  // some execute bit was set
	size     int64 // content length of a file
	off      int64 // where the content starts in the spool (Canonicalize)
}

// tree collects the entries of a package and enforces the rules that need
// them all: no duplicates, no name used as file and folder, no two names
// that collide on a case-insensitive file system, the entry count.
type tree struct {
	lim   Limits
	nodes map[string]*node // by fold key
	fold  cases.Caser      // not safe to share: one per tree
	size  int64            // total size of the files kept
}

func newTree(lim Limits) *tree {
	return &tree{lim: lim, nodes: make(map[string]*node), fold: cases.Fold()}
}

// key returns the name two paths share when a case-insensitive,
// normalisation-insensitive file system (macOS, Windows) sees them as one.
// Folding maps no character to or from "/", so the segments of the key match
// those of the path one to one.
func (t *tree) key(p string) string {
	if isASCII(p) {
		// The common case, and the same answer: ASCII folds to lowercase
		// ASCII and is its own normal form.
		return strings.ToLower(p)
	}
	return norm.NFC.String(t.fold.String(norm.NFD.String(p)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// add records an entry; parents missing so far are added as directories.
// The returned text, if any, says what is wrong with the entry.
func (t *tree) add(n *node) string {
	k := t.key(n.path)
	// Walk the parents, pairing the i-th "/" of the path with that of the key.
	pi, ki := 0, 0
	for {
		pj := strings.IndexByte(n.path[pi:], '/')
		if pj < 0 {
			break
		}
		kj := strings.IndexByte(k[ki:], '/')
		if kj < 0 {
			// Cannot happen (see key), but a wrong pairing must not panic.
			return "the path cannot be compared with the others"
		}
		pi, ki = pi+pj, ki+kj
		parent, pk := n.path[:pi], k[:ki]
		if msg := t.addParent(parent, pk); msg != "" {
			return msg
		}
		pi, ki = pi+1, ki+1
	}
	old, ok := t.nodes[k]
	switch {
	case !ok:
		if msg := t.grow(); msg != "" {
			return msg
		}
		t.nodes[k] = n
	case old.path != n.path:
		return collision(old.path, n.path)
	case old.explicit:
		return "the path appears twice in the archive"
	case !n.dir:
		return fmt.Sprintf("%q is used both as a file and as a folder", n.path)
	default:
		old.explicit = true
	}
	if !n.dir {
		t.size += n.size
	}
	return ""
}

// addParent makes sure the directory p (fold key k) exists.
func (t *tree) addParent(p, k string) string {
	old, ok := t.nodes[k]
	switch {
	case !ok:
		if msg := t.grow(); msg != "" {
			return msg
		}
		t.nodes[k] = &node{path: p, dir: true}
	case old.path != p:
		return collision(old.path, p)
	case !old.dir:
		return fmt.Sprintf("%q is used both as a file and as a folder", p)
	}
	return ""
}

// grow checks that one more entry fits.
func (t *tree) grow() string {
	if len(t.nodes) >= t.lim.MaxEntries {
		return fmt.Sprintf("the archive has more than %d entries (folders included); that is the limit", t.lim.MaxEntries)
	}
	return ""
}

func collision(a, b string) string {
	return fmt.Sprintf("%q and %q differ only in letter case or Unicode normalisation, so they collide on macOS and Windows", a, b)
}

// get returns the node at exactly path p, or nil.
func (t *tree) get(p string) *node {
	if n := t.nodes[t.key(p)]; n != nil && n.path == p {
		return n
	}
	return nil
}

// layout decides where the package root is: "" when oaklibs.json is at the
// root, or the single top-level folder that holds it when allowPrefix. The
// error text says where oaklibs.json was looked for.
func (t *tree) layout(allowPrefix bool) (prefix string, problem string) {
	if t.get(ManifestName) != nil {
		return "", ""
	}
	var tops []string
	for _, n := range t.nodes {
		if !strings.Contains(n.path, "/") {
			tops = append(tops, n.path)
		}
	}
	slices.Sort(tops)
	if allowPrefix && len(tops) == 1 && t.get(tops[0]).dir && t.get(tops[0]+"/"+ManifestName) != nil {
		return tops[0], ""
	}
	msg := "no " + ManifestName + " at the root of the archive"
	switch {
	case len(tops) == 0:
		msg = "the upload contains no files; it needs " + ManifestName + " at its root"
	case !allowPrefix:
	case len(tops) == 1 && t.get(tops[0]).dir:
		msg = fmt.Sprintf("no %s at the root of the archive nor in its top-level folder %q", ManifestName, tops[0]+"/")
	case len(tops) > 1:
		msg += fmt.Sprintf(" (files inside one top-level folder are accepted too, but this archive has %d top-level entries)", len(tops))
	}
	if n := t.nodes[t.key(ManifestName)]; n != nil {
		msg += fmt.Sprintf("; found %q: the name must be exactly %s, in lowercase", n.path, ManifestName)
	}
	return "", msg
}

// sorted returns the nodes under prefix ("" for all), with the prefix
// removed from their paths, in canonical order: bytewise by path, where a
// directory's path ends with "/". The prefix folder itself is left out.
func (t *tree) sorted(prefix string) []*node {
	out := make([]*node, 0, len(t.nodes))
	for _, n := range t.nodes {
		if prefix == "" {
			out = append(out, n)
			continue
		}
		if n.path == prefix {
			continue
		}
		c := *n
		c.path = strings.TrimPrefix(n.path, prefix+"/")
		out = append(out, &c)
	}
	slices.SortFunc(out, compareTarNames)
	return out
}

// compareTarNames orders nodes as strings.Compare orders their tar names,
// without building those names.
func compareTarNames(a, b *node) int {
	n := min(len(a.path), len(b.path))
	if c := strings.Compare(a.path[:n], b.path[:n]); c != 0 {
		return c
	}
	for i := n; ; i++ {
		ca, cb := a.tarByte(i), b.tarByte(i)
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		if ca < 0 {
			return 0
		}
	}
}

// tarByte returns byte i of the node's tar name, or -1 past its end.
func (n *node) tarByte(i int) int {
	switch {
	case i < len(n.path):
		return int(n.path[i])
	case i == len(n.path) && n.dir:
		return '/'
	}
	return -1
}

// tarName is the name of the node in a tar archive.
func (n *node) tarName() string {
	if n.dir {
		return n.path + "/"
	}
	return n.path
}
