package testenv

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// EventuallyTimeout bounds how long Eventually waits. It is generous: it
// only keeps a broken build from hanging, it is no speed requirement.
const EventuallyTimeout = 90 * time.Second

// Eventually polls cond until it holds, failing the test with what cond
// last said once EventuallyTimeout has passed. Polling is how tests wait
// for asynchronous work (the git worker, a download flush, a recovery);
// no test asserts how long it takes.
func Eventually(t testing.TB, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(EventuallyTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last state: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FirstInitWins checks a store-unless-present operation such as a
// registry identity's: init called from eight goroutines at once, each
// with its own value, must all answer the one value get then reads, and a
// later init must keep it.
func FirstInitWins(t testing.TB, init func(value string) (string, error), get func() (string, error)) {
	t.Helper()
	got := make([]string, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := init(fmt.Sprintf("value-%d", i))
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	stored, err := get()
	if err != nil || !strings.HasPrefix(stored, "value-") {
		t.Fatalf("stored after the race: %q, %v", stored, err)
	}
	for _, v := range got {
		if v != stored {
			t.Errorf("an init answered %q, the store holds %q", v, stored)
		}
	}
	if v, _ := init("another"); v != stored {
		t.Errorf("a later init replaced %q with %q", stored, v)
	}
}
