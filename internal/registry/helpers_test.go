package registry_test

import (
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
)

// success is the kind tables use for "no error": errs.KindOf never
// returns it.
const success errs.Kind = -1

// ip is the client address the tests act from.
const ip = registrytest.IP

// checkErr reports whether err is of kind want (success: nil) and, when
// msg is not empty, whether its message contains msg; it fails the test
// when not.
func checkErr(t testing.TB, what string, err error, want errs.Kind, msg string) bool {
	t.Helper()
	if want == success {
		if err != nil {
			t.Errorf("%s: unexpected error %v (%s)", what, err, errs.KindOf(err).Code())
			return false
		}
		return true
	}
	if err == nil {
		t.Errorf("%s: no error, want %s", what, want.Code())
		return false
	}
	if got := errs.KindOf(err); got != want {
		t.Errorf("%s: error %s (%v), want %s", what, got.Code(), err, want.Code())
		return false
	}
	if msg != "" && !strings.Contains(errs.Message(err), msg) {
		t.Errorf("%s: message %q should mention %q", what, errs.Message(err), msg)
		return false
	}
	return true
}

// pkg is a package with the default manifest and files.
func pkg(name, version string) testenv.Package {
	return testenv.Package{Name: name, Version: version}
}

// withDeps is a package that depends on deps.
func withDeps(name, version string, deps map[string]string) testenv.Package {
	return testenv.Package{Name: name, Version: version, Fields: map[string]any{"dependencies": deps}}
}

// withFields is a package whose manifest has fields.
func withFields(name, version string, fields map[string]any) testenv.Package {
	return testenv.Package{Name: name, Version: version, Fields: fields}
}

// joined writes name of each element of xs, separated by spaces.
func joined[T any](xs []T, name func(T) string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return strings.Join(out, " ")
}
