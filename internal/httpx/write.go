package httpx

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
)

// WriteJSON writes v as the JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	// Field names the input the error is about, when it is about one.
	Field string `json:"field,omitempty"`
}

// WriteError writes err as the JSON error answer of its kind:
// {"error": kind, "message": what to do}, with Retry-After for rate limits
// and WWW-Authenticate for missing credentials. Internal errors are logged
// with the request id and answered without details.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	kind := errs.KindOf(err)
	if kind == errs.Internal && log != nil {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", RequestID(r.Context()))
	}
	SetErrorHeaders(w, err)
	WriteJSON(w, kind.Status(), errorBody{Error: kind.Code(), Message: errs.Message(err), Field: fieldOf(err, kind)})
}

// SetErrorHeaders sets the headers an error answer carries whatever its
// format: Retry-After for rate limits, WWW-Authenticate for missing
// credentials.
func SetErrorHeaders(w http.ResponseWriter, err error) {
	if d, ok := errs.RetryAfter(err); ok {
		w.Header().Set("Retry-After", ratelimit.RetrySeconds(d))
	}
	if errs.KindOf(err) == errs.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dryad-registry"`)
	}
}

// fieldOf is the input an error is about, shown only with the message it
// goes with: an internal error's field would tell about a hidden cause.
func fieldOf(err error, kind errs.Kind) string {
	if kind == errs.Internal || kind == errs.StorageFull {
		return ""
	}
	return errs.FieldOf(err)
}
