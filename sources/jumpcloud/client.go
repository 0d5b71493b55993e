package jumpcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/hashicorp/go-retryablehttp"
)

// The routes the source reads.
const (
	usersPath  = "/api/systemusers"
	groupsPath = "/api/v2/usergroups"
)

// membersPath returns the route of a group's direct members.
func membersPath(groupID string) string {
	return groupsPath + "/" + url.PathEscape(groupID) + "/members"
}

// maxBody caps a response body. A full page of users is a few tens of KiB.
const maxBody = 16 << 20

// APIError is an answer from JumpCloud other than 200 OK, after retries.
// Use errors.As to read its Status.
type APIError struct {
	// Method and Path name the request; Path carries the limit and skip
	// but never a secret.
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Message is JumpCloud's message (the "message" of its error body), or
	// the start of the body when it has none.
	Message string
}

// Error says which request failed, with the status and JumpCloud's message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// fetch sends an authenticated GET for path and returns the body of a 200
// answer, and the request's name for errors. It waits for a free slot of the
// source's concurrency first.
func (s *Source) fetch(ctx context.Context, path string, q url.Values) (body []byte, what string, err error) {
	what = "GET " + path + shortQuery(q)
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, what, fmt.Errorf("%s: %w", what, ctx.Err())
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, s.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, what, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("x-api-key", s.key)
	if s.cfg.OrgID != "" {
		req.Header.Set("x-org-id", s.cfg.OrgID)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dirbridge")
	resp, err := s.client.Do(req)
	if err != nil {
		// url.Error repeats the whole URL; what already names the request.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, what, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, what, fmt.Errorf("%s: read body: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, what, &APIError{Method: http.MethodGet, Path: path + shortQuery(q), Status: resp.StatusCode, Message: errorMessage(resp, body)}
	}
	if len(body) > maxBody {
		return nil, what, &PageError{What: what, Index: -1, Err: fmt.Errorf("body longer than %d bytes", maxBody)}
	}
	return body, what, nil
}

// shortQuery renders the paging parameters of q, the part worth showing in
// errors and logs.
func shortQuery(q url.Values) string {
	var parts []string
	for _, k := range []string{"limit", "skip"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

// errorMessage extracts the message of an error answer: "message" of
// JumpCloud's v1 ({"message"}) and v2 ({"code","message","status"}) bodies,
// else the start of a non-HTML body.
func errorMessage(resp *http.Response, body []byte) string {
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		return "redirect to " + clip(loc) + " not followed"
	}
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		switch {
		case e.Message != "":
			return clip(e.Message)
		case e.Error != "":
			return clip(e.Error)
		}
	}
	if strings.Contains(resp.Header.Get("Content-Type"), "html") {
		return ""
	}
	return clip(string(body))
}

// clip makes s fit for one log line: control characters replaced, white
// space trimmed, at most 200 runes.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}
