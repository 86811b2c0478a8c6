package textdiff

// Line is a line of a hunk with its numbers in the old and new texts (0
// where it is not in that text).
type Line struct {
	Op     Op
	Text   string
	OldNum int
	NewNum int
}

// Hunk is a group of changes with the unchanged lines around them, as a
// unified diff shows it: "@@ -OldStart,OldLines +NewStart,NewLines @@".
type Hunk struct {
	OldStart, OldLines int
	NewStart, NewLines int
	Lines              []Line
}

// Hunks groups edits into hunks with context unchanged lines around each
// change; hunks whose context would touch are merged.
func Hunks(edits []Edit, context int) []Hunk {
	var hunks []Hunk
	// Number every edit's lines first.
	lines := make([]Line, len(edits))
	o, n := 1, 1
	for i, e := range edits {
		l := Line{Op: e.Op, Text: e.Line}
		switch e.Op {
		case Equal:
			l.OldNum, l.NewNum = o, n
			o++
			n++
		case Delete:
			l.OldNum = o
			o++
		case Insert:
			l.NewNum = n
			n++
		}
		lines[i] = l
	}
	for i := 0; i < len(lines); {
		if lines[i].Op == Equal {
			i++
			continue
		}
		// A change at i: the hunk starts context lines before it and
		// runs until more than 2*context equal lines follow a change.
		start := max(0, i-context)
		end := i
		for j := i; j < len(lines); j++ {
			if lines[j].Op != Equal {
				end = j
				continue
			}
			if j-end > 2*context {
				break
			}
		}
		stop := min(len(lines), end+context+1)
		h := Hunk{Lines: lines[start:stop]}
		for _, l := range h.Lines {
			if l.Op != Insert {
				h.OldLines++
				if h.OldStart == 0 {
					h.OldStart = l.OldNum
				}
			}
			if l.Op != Delete {
				h.NewLines++
				if h.NewStart == 0 {
					h.NewStart = l.NewNum
				}
			}
		}
		// An empty side starts, as diff(1) writes it, at the line
		// before the hunk.
		if h.OldLines == 0 {
			h.OldStart = oldBefore(lines, start) - 1
		}
		if h.NewLines == 0 {
			h.NewStart = newBefore(lines, start) - 1
		}
		hunks = append(hunks, h)
		i = stop
	}
	return hunks
}

// oldBefore is the old line number the edit at i would have.
func oldBefore(lines []Line, i int) int {
	n := 1
	for _, l := range lines[:i] {
		if l.Op != Insert {
			n++
		}
	}
	return n
}

// newBefore is the new line number the edit at i would have.
func newBefore(lines []Line, i int) int {
	n := 1
	for _, l := range lines[:i] {
		if l.Op != Delete {
			n++
		}
	}
	return n
}
