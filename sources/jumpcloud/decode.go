package jumpcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrBadResponse is wrapped by every error about a response JumpCloud should
// not have sent: malformed JSON, wrong types, a page longer than its limit, a
// record without an id, paging that does not advance.
var ErrBadResponse = errors.New("bad response")

// PageError is a bad page, or a bad record in a page. It wraps ErrBadResponse
// and the cause.
type PageError struct {
	// What names the page: the request's method and path with its skip.
	What string
	// Index is the record's position in the page, or -1 for the page itself.
	Index int
	// ID is the record's id when it could be read.
	ID  string
	Err error
}

// Error names the page and record and says what is wrong with them.
func (e *PageError) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": item %d", e.Index)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %s)", e.ID)
		}
	}
	b.WriteString(": ")
	b.WriteString(describe(e.Err))
	return b.String()
}

// Unwrap returns ErrBadResponse and the cause.
func (e *PageError) Unwrap() []error { return []error{ErrBadResponse, e.Err} }

// describe rewords encoding/json's errors, which name Go types, in terms of
// the JSON the server sent.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("%s: got JSON %s, want %s", field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se.Error())
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64":
		return "an integer"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return goKind
}

// apiUser is the part of a v1 systemuser that the source reads.
type apiUser struct {
	ID              string `json:"_id"`
	Email           string `json:"email"`
	Username        string `json:"username"`
	DisplayName     string `json:"displayname"`
	FirstName       string `json:"firstname"`
	LastName        string `json:"lastname"`
	State           string `json:"state"`
	Suspended       bool   `json:"suspended"`
	Activated       bool   `json:"activated"`
	PasswordExpired bool   `json:"password_expired"`
	AccountLocked   bool   `json:"account_locked"`
}

// userFields is the projection asked of /api/systemusers: what apiUser holds.
var userFields = []string{
	"_id", "email", "username", "displayname", "firstname", "lastname",
	"state", "suspended", "activated", "password_expired", "account_locked",
}

// apiGroup is the part of a v2 user group that the source reads.
type apiGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// apiMember is one v2 graph connection of a group's /members list.
type apiMember struct {
	To *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"to"`
}

// usersPage is one decoded page of /api/systemusers.
type usersPage struct {
	// total is the page's totalCount.
	total int
	// n is the number of entries in results, nulls included: what skip
	// advances by.
	n     int
	users []apiUser
}

// decodeUsersPage decodes a v1 page: {"totalCount": N, "results": [...]}.
// what names the page in errors; limit is the page size asked for.
func decodeUsersPage(body []byte, what string, limit int) (usersPage, error) {
	var env struct {
		TotalCount *int              `json:"totalCount"`
		Results    []json.RawMessage `json:"results"`
	}
	if err := decodeJSON(body, &env); err != nil {
		return usersPage{}, &PageError{What: what, Index: -1, Err: err}
	}
	switch {
	case env.TotalCount == nil:
		return usersPage{}, &PageError{What: what, Index: -1, Err: errors.New("no totalCount")}
	case *env.TotalCount < 0:
		return usersPage{}, &PageError{What: what, Index: -1, Err: fmt.Errorf("negative totalCount %d", *env.TotalCount)}
	}
	p := usersPage{total: *env.TotalCount, n: len(env.Results)}
	if err := checkLen(len(env.Results), limit); err != nil {
		return usersPage{}, &PageError{What: what, Index: -1, Err: err}
	}
	p.users = make([]apiUser, 0, len(env.Results))
	for i, raw := range env.Results {
		if isNull(raw) {
			continue
		}
		var u apiUser
		if err := decodeJSON(raw, &u); err != nil {
			return usersPage{}, &PageError{What: what, Index: i, ID: u.ID, Err: err}
		}
		if u.ID == "" {
			return usersPage{}, &PageError{What: what, Index: i, Err: errors.New("no _id")}
		}
		p.users = append(p.users, u)
	}
	return p, nil
}

// groupsPage is one decoded page of /api/v2/usergroups.
type groupsPage struct {
	n      int
	groups []apiGroup
}

// decodeGroupsPage decodes a v2 page of user groups: a bare JSON array.
func decodeGroupsPage(body []byte, what string, limit int) (groupsPage, error) {
	var items []json.RawMessage
	if err := decodeJSON(body, &items); err != nil {
		return groupsPage{}, &PageError{What: what, Index: -1, Err: err}
	}
	if err := checkLen(len(items), limit); err != nil {
		return groupsPage{}, &PageError{What: what, Index: -1, Err: err}
	}
	p := groupsPage{n: len(items), groups: make([]apiGroup, 0, len(items))}
	for i, raw := range items {
		if isNull(raw) {
			continue
		}
		var g apiGroup
		if err := decodeJSON(raw, &g); err != nil {
			return groupsPage{}, &PageError{What: what, Index: i, ID: g.ID, Err: err}
		}
		if g.ID == "" {
			return groupsPage{}, &PageError{What: what, Index: i, Err: errors.New("no id")}
		}
		p.groups = append(p.groups, g)
	}
	return p, nil
}

// membersPage is one decoded page of /api/v2/usergroups/{id}/members.
type membersPage struct {
	n int
	// users holds the ids of the user members, in order.
	users []string
	// others counts members that are not users.
	others int
}

// decodeMembersPage decodes a v2 page of graph connections:
// [{"to": {"id": ..., "type": "user"}}, ...].
func decodeMembersPage(body []byte, what string, limit int) (membersPage, error) {
	var items []json.RawMessage
	if err := decodeJSON(body, &items); err != nil {
		return membersPage{}, &PageError{What: what, Index: -1, Err: err}
	}
	if err := checkLen(len(items), limit); err != nil {
		return membersPage{}, &PageError{What: what, Index: -1, Err: err}
	}
	p := membersPage{n: len(items), users: make([]string, 0, len(items))}
	for i, raw := range items {
		if isNull(raw) {
			continue
		}
		var m apiMember
		if err := decodeJSON(raw, &m); err != nil {
			return membersPage{}, &PageError{What: what, Index: i, Err: err}
		}
		switch {
		case m.To == nil:
			return membersPage{}, &PageError{What: what, Index: i, Err: errors.New("no to")}
		case m.To.ID == "":
			return membersPage{}, &PageError{What: what, Index: i, Err: errors.New("no to.id")}
		case m.To.Type != "user":
			p.others++
		default:
			p.users = append(p.users, m.To.ID)
		}
	}
	return p, nil
}

// decodeJSON decodes one JSON value and refuses trailing data.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("empty body")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("truncated JSON")
		}
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("trailing data after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
}

func checkLen(n, limit int) error {
	if n > limit {
		return fmt.Errorf("page holds %d items, more than the limit %d", n, limit)
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
