package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrRepeatedResource means a page held a resource already read: the
	// server ignores or misreads startIndex (authentik; AWS IAM Identity
	// Center, which needs paging: cursor), returned an earlier page again, or
	// the directory changed under the read. Reading on would loop or
	// duplicate, so the read fails.
	ErrRepeatedResource = errors.New("resource read twice")
	// ErrTooManyPages means a list took more pages than max_pages, or more
	// than its totalResults could need.
	ErrTooManyPages = errors.New("too many pages")
	// ErrShortList means the server returned an empty page before
	// totalResults resources were read.
	ErrShortList = errors.New("list ended before totalResults")
	// ErrNoMembers means a group read by id still has no members attribute,
	// so its membership cannot be known.
	ErrNoMembers = errors.New("group has no members attribute")
	// ErrBadResponse means a response was not the JSON object the protocol
	// promises (wrong content type, not an object, oversized).
	ErrBadResponse = errors.New("bad response")
)

// ResponseError is a non-success HTTP answer, with the SCIM error's detail
// when the body carried one (RFC 7644 §3.12).
type ResponseError struct {
	// Method and URL are the request's (the URL without credentials).
	Method, URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// SCIMType is the error's scimType, such as "invalidFilter", if any.
	SCIMType string
	// Detail is the error's detail, or the start of a non-SCIM body.
	Detail string
}

// Error returns "GET url: 400 Bad Request: detail (scimType invalidFilter)".
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.SCIMType != "" {
		fmt.Fprintf(&b, " (scimType %s)", e.SCIMType)
	}
	return b.String()
}

// RecordError is a resource that could not be read or mapped. It names the
// resource by its kind, its position in the read and its id when known.
type RecordError struct {
	// Kind is "user" or "group".
	Kind string
	// Where tells where the record came from, such as "item 3 of the page at
	// startIndex 101" or "GET /Groups/abc".
	Where string
	// ID is the record's id, or "" when it has none or could not be read.
	ID string
	// Err is what is wrong.
	Err error
}

// Error returns `user "abc" (item 3 of the page at startIndex 101): reason`.
func (e *RecordError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s %q (%s): %v", e.Kind, e.ID, e.Where, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", e.Kind, e.Where, e.Err)
}

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }
