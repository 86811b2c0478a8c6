package testenv

import (
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
