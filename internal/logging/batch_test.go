package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestLogWriterKeepsEveryLineInOrder writes from many goroutines and checks
// that every line arrives whole, each goroutine's lines in order, and that
// Close writes what is left.
func TestLogWriterKeepsEveryLineInOrder(t *testing.T) {
	var out testenv.Buffer
	w := NewBatchWriter(&out)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		}(g)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		var g string
		var i int
		if _, err := fmt.Sscanf(l, "%s line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q", l)
		}
		if i != next[g] {
			t.Fatalf("%s: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
}

// TestWarningsReachTheLogAtOnce checks that a warning is written before its
// logging call returns, while info lines may be batched.
func TestWarningsReachTheLogAtOnce(t *testing.T) {
	var out testenv.Buffer
	w := NewBatchWriter(&out)
	defer w.Close()
	log := slog.New(flushing{slog.NewTextHandler(w, nil), w})
	log.Warn("disk almost full")
	if !strings.Contains(out.String(), "disk almost full") {
		t.Fatal("a warning was not written before Warn returned")
	}
	log.Info("request")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "msg=request") {
		if time.Now().After(deadline) {
			t.Fatal("an info line never reached the output")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkLogWriter(b *testing.B) {
	var out bytes.Buffer
	w := NewBatchWriter(&out)
	defer w.Close()
	line := []byte(strings.Repeat("x", 200) + "\n")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Write(line)
		}
	})
}
