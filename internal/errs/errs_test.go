package errs

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestKindsAndStatuses(t *testing.T) {
	tests := []struct {
		kind   Kind
		status int
		code   string
	}{
		{Internal, http.StatusInternalServerError, "internal"},
		{Invalid, http.StatusBadRequest, "invalid"},
		{Unauthenticated, http.StatusUnauthorized, "unauthorized"},
		{Forbidden, http.StatusForbidden, "forbidden"},
		{NotFound, http.StatusNotFound, "not_found"},
		{Conflict, http.StatusConflict, "conflict"},
		{Gone, http.StatusGone, "gone"},
		{TooLarge, http.StatusRequestEntityTooLarge, "too_large"},
		{Unprocessable, http.StatusUnprocessableEntity, "unprocessable"},
		{RateLimited, http.StatusTooManyRequests, "rate_limited"},
		{Unavailable, http.StatusServiceUnavailable, "unavailable"},
		{StorageFull, http.StatusInsufficientStorage, "storage_full"},
		{MethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		if got := tt.kind.Status(); got != tt.status {
			t.Errorf("%v.Status() = %d, want %d", tt.kind, got, tt.status)
		}
		if got := tt.kind.Code(); got != tt.code {
			t.Errorf("Code() = %q, want %q", got, tt.code)
		}
	}
	if got := Kind(99).Status(); got != 500 {
		t.Errorf("unknown kind status = %d", got)
	}
}

func TestIsThroughWrapping(t *testing.T) {
	err := New(NotFound, `package "x" not found`)
	wrapped := fmt.Errorf("loading: %w", err)
	if !errors.Is(wrapped, NotFound) {
		t.Fatal("errors.Is(wrapped, NotFound) = false")
	}
	if errors.Is(wrapped, Conflict) {
		t.Fatal("errors.Is(wrapped, Conflict) = true")
	}
	if KindOf(wrapped) != NotFound {
		t.Fatalf("KindOf = %v", KindOf(wrapped))
	}
	if Message(wrapped) != `package "x" not found` {
		t.Fatalf("Message = %q", Message(wrapped))
	}
}

func TestErrorfKeepsCause(t *testing.T) {
	err := Errorf(Invalid, "reading archive: %w", io.ErrUnexpectedEOF)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, Invalid) {
		t.Fatalf("cause or kind lost: %v", err)
	}
	if Message(err) != "reading archive: unexpected EOF" {
		t.Fatalf("Message = %q", Message(err))
	}
}

func TestInternalMessageHidden(t *testing.T) {
	err := fmt.Errorf("dial tcp 10.0.0.1:5432: secret detail")
	if KindOf(err) != Internal {
		t.Fatal("plain error should be Internal")
	}
	if m := Message(err); m == err.Error() {
		t.Fatalf("internal detail leaked: %q", m)
	}
	if m := Message(Wrap(Internal, err, "x")); m == "x" {
		t.Fatalf("internal wrap message shown: %q", m)
	}
}

func TestRetryAfter(t *testing.T) {
	err := fmt.Errorf("limit: %w", RateLimit(3*time.Second, "slow down"))
	d, ok := RetryAfter(err)
	if !ok || d != 3*time.Second {
		t.Fatalf("RetryAfter = %v, %v", d, ok)
	}
	if _, ok := RetryAfter(New(Invalid, "x")); ok {
		t.Fatal("RetryAfter on Invalid")
	}
}

// A full disk is StorageFull whoever wrapped it, with a message saying so
// rather than the wrapper's.
func TestNoSpaceIsStorageFull(t *testing.T) {
	pathErr := &os.PathError{Op: "write", Path: "/data/packages/tmp/blob-1", Err: syscall.ENOSPC}
	for _, err := range []error{
		pathErr,
		fmt.Errorf("canonicalizing: %w", pathErr),
		Wrap(Unavailable, pathErr, "storing the package archive failed"),
		&os.PathError{Op: "write", Path: "/data/x", Err: syscall.EDQUOT},
		NoSpace(errors.New("sqlite: database or disk is full")),
	} {
		if KindOf(err) != StorageFull || KindOf(err).Status() != 507 || !strings.Contains(Message(err), "storage is full") {
			t.Errorf("%v: kind %v, message %q", err, KindOf(err), Message(err))
		}
	}
	if KindOf(Wrap(Unavailable, syscall.EIO, "disk trouble")) != Unavailable {
		t.Error("another I/O error became StorageFull")
	}
}

// TestField checks that an error can name the input it is about, that
// OnField names it only when nothing did before (the innermost knows
// best) without changing the error it was given, and that wrapping keeps
// the field reachable.
func TestField(t *testing.T) {
	err := Field(Invalid, "updated", "updated: want week, month or year")
	if FieldOf(err) != "updated" || KindOf(err) != Invalid || Message(err) != "updated: want week, month or year" {
		t.Errorf("Field: %q %v %q", FieldOf(err), KindOf(err), Message(err))
	}
	if FieldOf(fmt.Errorf("searching: %w", err)) != "updated" {
		t.Error("the field is lost by wrapping")
	}
	if FieldOf(OnField(err, "other")) != "updated" {
		t.Error("OnField replaced a field already named")
	}
	plain := New(Conflict, "username taken")
	named := OnField(plain, "username")
	if FieldOf(named) != "username" || FieldOf(plain) != "" || KindOf(named) != Conflict || Message(named) != "username taken" {
		t.Errorf("OnField: %q (original %q), %v %q", FieldOf(named), FieldOf(plain), KindOf(named), Message(named))
	}
	internal := errors.New("disk on fire")
	if OnField(internal, "x") != internal || FieldOf(internal) != "" || OnField(nil, "x") != nil {
		t.Error("OnField changed an error of no kind")
	}
}
