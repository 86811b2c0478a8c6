package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

// checkErr fails the test unless err is nil when want is nil, or is of kind
// *want and its user message contains every one of wantMsg.
func checkErr(t *testing.T, err error, want *errs.Kind, wantMsg ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got nil error, want %v", *want)
	}
	if !errors.Is(err, *want) {
		t.Fatalf("error %q is of kind %v, want %v", err, errs.KindOf(err), *want)
	}
	msg := errs.Message(err)
	for _, m := range wantMsg {
		if !strings.Contains(msg, m) {
			t.Errorf("message %q does not contain %q", msg, m)
		}
	}
}

func kind(k errs.Kind) *errs.Kind { return &k }
