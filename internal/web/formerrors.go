package web

import (
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// fieldErrors are a form's errors, the one model every form's page uses:
// a field's name maps to what is wrong with its value, and the key ""
// holds what concerns the whole form (shown as a banner above it). The
// "input" template shows a field's error beside it, marks the field
// aria-invalid and gives it autofocus, which the browser honours for the
// first such field only: focus lands on the first field to fix.
type fieldErrors map[string]string

// add records a registry error on the form: beside the field it names
// (errs.Field) when the form has that field, else above the form. fields
// lists the form's fields; "input=field" maps an input as the registry
// names it (its API name, e.g. new_password) to the form's own field. It
// returns false, recording nothing, for the errors a form cannot help
// with (internal ones), which the caller returns instead.
func (fe fieldErrors) add(err error, fields ...string) bool {
	if err == nil || errs.KindOf(err) == errs.Internal {
		return false
	}
	fe.set(formField(errs.FieldOf(err), fields), sentence(errs.Message(err)))
	return true
}

// formField is the form's field for the registry's input name, or "".
func formField(input string, fields []string) string {
	if input == "" {
		return ""
	}
	for _, f := range fields {
		from, to, mapped := strings.Cut(f, "=")
		if !mapped {
			to = from
		}
		if from == input {
			return to
		}
	}
	return ""
}

// set records msg for field unless the field already has an error: the
// first error found for a field is the one to fix first.
func (fe fieldErrors) set(field, msg string) {
	if _, ok := fe[field]; !ok {
		fe[field] = msg
	}
}
