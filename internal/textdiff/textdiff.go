// Package textdiff computes line diffs between two texts with Myers'
// O(ND) algorithm, bounded by the number of edits it may find, and groups
// them into the hunks of a unified diff. The registry shows what changed
// in a file between two versions of a package with it.
package textdiff

import "strings"

// Op is what an edit does to a line.
type Op int8

// The edits of a diff.
const (
	Equal Op = iota
	Delete
	Insert
)

// Edit is one line of a diff: kept, removed from the old text, or added
// from the new one.
type Edit struct {
	Op   Op
	Line string
}

// SplitLines splits s into lines that keep their "\n", so that joining
// them gives s back and a missing newline at the end is a change of its own.
func SplitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Lines returns the edits turning a into b, shortest first found, or ok
// false when more than maxEdits lines are added or removed (the work and
// memory of the search grow with the square of that number).
func Lines(a, b []string, maxEdits int) (edits []Edit, ok bool) {
	// Common ends cost nothing to find and are most of a typical change.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	mid, ok := myers(a[pre:len(a)-suf], b[pre:len(b)-suf], maxEdits)
	if !ok {
		return nil, false
	}
	edits = make([]Edit, 0, pre+len(mid)+suf)
	for _, l := range a[:pre] {
		edits = append(edits, Edit{Equal, l})
	}
	edits = append(edits, mid...)
	for _, l := range a[len(a)-suf:] {
		edits = append(edits, Edit{Equal, l})
	}
	return edits, true
}

// myers is the greedy forward search of Myers' paper, keeping the
// frontier of every step to walk the path back.
func myers(a, b []string, maxEdits int) ([]Edit, bool) {
	n, m := len(a), len(b)
	if n == 0 && m == 0 {
		return nil, true
	}
	limit := min(maxEdits, n+m)
	off := limit + 1
	v := make([]int32, 2*limit+3)
	// trace[d] is the frontier after step d: the furthest x on each
	// diagonal k in -d..d, at index k+d.
	var trace [][]int32
	for d := 0; d <= limit; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = int(v[off+k+1])
			} else {
				x = int(v[off+k-1]) + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				trace = append(trace, append([]int32(nil), v[off-d:off+d+1]...))
				return backtrack(a, b, trace), true
			}
		}
		trace = append(trace, append([]int32(nil), v[off-d:off+d+1]...))
	}
	return nil, false
}

// backtrack walks the path found by myers from the end to the start.
func backtrack(a, b []string, trace [][]int32) []Edit {
	x, y := len(a), len(b)
	var rev []Edit
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return int(prev[k+d-1]) }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			rev = append(rev, Edit{Equal, a[x-1]})
			x--
			y--
		}
		if pk == k+1 {
			rev = append(rev, Edit{Insert, b[y-1]})
		} else {
			rev = append(rev, Edit{Delete, a[x-1]})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		rev = append(rev, Edit{Equal, a[x-1]})
		x--
		y--
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// Apply returns the text the edits make of a, or ok false when they do not
// fit a (a kept or deleted line that a does not have there).
func Apply(a []string, edits []Edit) (b []string, ok bool) {
	i := 0
	for _, e := range edits {
		switch e.Op {
		case Equal, Delete:
			if i >= len(a) || a[i] != e.Line {
				return nil, false
			}
			if e.Op == Equal {
				b = append(b, e.Line)
			}
			i++
		case Insert:
			b = append(b, e.Line)
		}
	}
	return b, i == len(a)
}
