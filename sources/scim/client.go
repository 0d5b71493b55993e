package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-retryablehttp"
)

// defaultMaxBody caps one response body. A page of 1,000 users is about
// half a megabyte and a group of 100,000 members about ten, so this only
// stops a server that has lost its mind from exhausting memory.
const defaultMaxBody = 256 << 20

// errorBodyLimit caps how much of an error body is read.
const errorBodyLimit = 64 << 10

// client makes the authenticated GETs of one SCIM service provider.
type client struct {
	base     string // scheme://host/path, without a trailing slash
	token    string
	http     *retryablehttp.Client
	maxBody  int64
	requests atomic.Int64
}

// get fetches base+path with the query q and returns the body of a success.
// Any other status is a *ResponseError; a body that is not JSON is
// ErrBadResponse.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	target := c.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	shown := redactURL(target)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json, application/json")
	req.Header.Set("User-Agent", "dirbridge")
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, ctxErr(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		return nil, newResponseError(http.MethodGet, shown, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/scim+json" && mt != "application/json" {
			return nil, fmt.Errorf("GET %s: %w: content type %q, want application/scim+json or application/json", shown, ErrBadResponse, ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", shown, ctxErr(ctx, err))
	}
	if int64(len(body)) > c.maxBody {
		return nil, fmt.Errorf("GET %s: %w: body larger than %d bytes", shown, ErrBadResponse, c.maxBody)
	}
	return body, nil
}

// ctxErr makes sure an error caused by the end of ctx wraps ctx's error, so
// that callers can tell a cancellation from a failure with errors.Is.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

// newResponseError builds the error for a non-success status, reading the
// SCIM error's detail and scimType when the body has them.
func newResponseError(method, shown string, status int, body []byte) *ResponseError {
	e := &ResponseError{Method: method, URL: shown, StatusCode: status}
	var w wireError
	if json.Unmarshal(body, &w) == nil && (w.Detail != "" || w.SCIMType != "") {
		e.Detail = oneLine(w.Detail, 500)
		e.SCIMType = w.SCIMType
		return e
	}
	e.Detail = oneLine(string(body), 200)
	return e
}

// wireError is a SCIM error body. status may be a string ("400", as the RFC
// says) or a number.
type wireError struct {
	Status   json.RawMessage `json:"status"`
	SCIMType string          `json:"scimType"`
	Detail   string          `json:"detail"`
}

// scimErrorText renders a SCIM error body found where a success was
// expected.
func scimErrorText(body []byte) string {
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return snippet(body)
	}
	text := "status " + strings.Trim(string(w.Status), `"`)
	if w.Detail != "" {
		text += ": " + w.Detail
	}
	if w.SCIMType != "" {
		text += " (scimType " + w.SCIMType + ")"
	}
	return text
}

// redactURL drops credentials from a URL for messages. Queries stay: they
// hold paging and filters, never the token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = nil
	return u.String()
}
