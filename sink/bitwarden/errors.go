package bitwarden

import (
	"errors"
	"fmt"
	"github.com/dirbridge/dirbridge/sync"
	"net/http"
	"sort"
	"strings"
)

// ErrUnauthorized means the organization's API key no longer opens the API:
// the token endpoint rejected the client id or secret, or the API answered
// 401 to a request made with a fresh token. A sync run stops on it.
// It matches sync.ErrAbort, so the Syncer stops the run at it.
var ErrUnauthorized error = unauthorized{}

type unauthorized struct{}

func (unauthorized) Error() string { return "bitwarden: unauthorized" }

// Is makes ErrUnauthorized match sync.ErrAbort.
func (unauthorized) Is(target error) bool { return target == sync.ErrAbort }

// ErrNoRevoke means the server has no revoke or restore endpoint: it predates
// Bitwarden server v2026.2.0.
var ErrNoRevoke = errors.New("bitwarden: revoke and restore need Bitwarden server 2026.2.0 or later")

// APIError is an error answer of the Bitwarden API: its status and the
// message and validation errors of its error envelope.
type APIError struct {
	// Method and Path are the request's, Path relative to the API base
	// (such as /public/members).
	Method string
	Path   string
	// Status is the HTTP status code.
	Status int
	// Message is the envelope's message, or the status text when the body
	// carried none.
	Message string
	// Errors holds the envelope's validation errors by field path, if any.
	Errors map[string][]string
}

// Error reads like "bitwarden: POST /public/members: 400 This user has
// already been invited.", followed by any validation errors.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bitwarden: %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		msgs := strings.Join(e.Errors[k], " ")
		if k == "" {
			fmt.Fprintf(&b, "; %s", msgs)
		} else {
			fmt.Fprintf(&b, "; %s: %s", k, msgs)
		}
	}
	return b.String()
}

// apiStatus reports whether err is an *APIError with the given status and,
// when message is not empty, a message containing it (case-insensitive).
func apiStatus(err error, status int, message string) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != status {
		return false
	}
	return message == "" || strings.Contains(strings.ToLower(ae.Message), strings.ToLower(message))
}

// isNotFound reports whether err is a 404 answer.
func isNotFound(err error) bool { return apiStatus(err, http.StatusNotFound, "") }
