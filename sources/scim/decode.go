package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// SCIM message schema URNs.
const (
	schemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaError        = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// listPage is one decoded ListResponse. Resources are left raw so that each
// one can be decoded, and blamed, on its own.
type listPage struct {
	// TotalResults is nil when the server did not say.
	TotalResults *int
	// Resources is empty when the key was missing or null.
	Resources []json.RawMessage
	// NextCursor is the cursor of the next page in cursor mode, "" at the end.
	NextCursor string
}

// wireList is the ListResponse envelope. encoding/json matches keys without
// regard to case, so "resources" (Bitwarden) fills Resources too.
// itemsPerPage and startIndex are ignored: servers echo the requested count.
type wireList struct {
	Schemas      json.RawMessage `json:"schemas"`
	TotalResults *flexInt        `json:"totalResults"`
	Resources    json.RawMessage `json:"Resources"`
	NextCursor   *flexString     `json:"nextCursor"`
	Status       json.RawMessage `json:"status"`
	Detail       json.RawMessage `json:"detail"`
}

// decodeListResponse decodes one page. It fails on anything but a JSON object
// that looks like a ListResponse, so that an error body, a login page or the
// wrong URL is never read as an empty directory.
func decodeListResponse(data []byte) (listPage, error) {
	if err := checkObject(data); err != nil {
		return listPage{}, err
	}
	var w wireList
	if err := json.Unmarshal(data, &w); err != nil {
		return listPage{}, fmt.Errorf("decode list response: %w", describeJSONError(err))
	}
	if bytes.Contains(w.Schemas, []byte(schemaError)) {
		return listPage{}, fmt.Errorf("%w: the server answered 200 with a SCIM error: %s", ErrBadResponse, scimErrorText(data))
	}
	if w.TotalResults == nil && w.Resources == nil && w.NextCursor == nil &&
		!bytes.Contains(w.Schemas, []byte(schemaListResponse)) {
		return listPage{}, fmt.Errorf("%w: not a SCIM ListResponse (no schemas, totalResults or Resources)", ErrBadResponse)
	}
	var p listPage
	if w.TotalResults != nil {
		n := int(*w.TotalResults)
		p.TotalResults = &n
	}
	if w.NextCursor != nil {
		p.NextCursor = string(*w.NextCursor)
	}
	if len(w.Resources) > 0 && !bytes.Equal(w.Resources, []byte("null")) {
		if err := json.Unmarshal(w.Resources, &p.Resources); err != nil {
			return listPage{}, fmt.Errorf("decode list response: Resources: %w", describeJSONError(err))
		}
	}
	return p, nil
}

// checkObject fails unless data is a JSON object.
func checkObject(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: empty body", ErrBadResponse)
	}
	if trimmed[0] != '{' {
		return fmt.Errorf("%w: want a JSON object, got %s", ErrBadResponse, snippet(trimmed))
	}
	return nil
}

// wireUser is the part of a SCIM User the source reads.
type wireUser struct {
	ID          flexString  `json:"id"`
	ExternalID  flexString  `json:"externalId"`
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName"`
	Name        *wireName   `json:"name"`
	Emails      []wireEmail `json:"emails"`
	Active      *flexBool   `json:"active"`
}

type wireName struct {
	Formatted  string `json:"formatted"`
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type wireEmail struct {
	Value   string   `json:"value"`
	Type    string   `json:"type"`
	Primary flexBool `json:"primary"`
}

// wireGroup is the part of a SCIM Group the source reads. Members is nil
// when the attribute is absent or null, and points at an empty slice when
// the group is listed as empty.
type wireGroup struct {
	ID          flexString    `json:"id"`
	ExternalID  flexString    `json:"externalId"`
	DisplayName string        `json:"displayName"`
	Members     *[]wireMember `json:"members"`
}

type wireMember struct {
	Value flexString `json:"value"`
	Type  string     `json:"type"`
	Ref   string     `json:"$ref"`
}

// decodeUser decodes one User resource.
func decodeUser(raw []byte) (wireUser, error) {
	var u wireUser
	if err := decodeResource(raw, &u); err != nil {
		return wireUser{}, err
	}
	return u, nil
}

// decodeGroup decodes one Group resource.
func decodeGroup(raw []byte) (wireGroup, error) {
	var g wireGroup
	if err := decodeResource(raw, &g); err != nil {
		return wireGroup{}, err
	}
	return g, nil
}

func decodeResource(raw []byte, v any) error {
	if err := checkObject(raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return describeJSONError(err)
	}
	return nil
}

// rawID returns a resource's id, or "" when it has none or is too broken to
// tell, so that errors can name the resource.
func rawID(raw []byte) string {
	var v struct {
		ID flexString `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return string(v.ID)
}

// flexString is a string that servers sometimes send as a number (ids).
// null leaves it empty.
type flexString string

// UnmarshalJSON accepts a string, a number or null.
func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = flexString(b)
		return nil
	}
	return typeError(b, reflect.TypeFor[string]())
}

// flexBool is a boolean that some servers send as a string ("True",
// "false"). null leaves it false.
type flexBool bool

// UnmarshalJSON accepts true, false, their strings in any case, or null.
func (v *flexBool) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.ToLower(strings.TrimSpace(s))
	}
	switch s {
	case "null":
		if b[0] == '"' {
			break
		}
		return nil
	case "true":
		*v = true
		return nil
	case "false":
		*v = false
		return nil
	}
	return typeError(b, reflect.TypeFor[bool]())
}

// flexInt is a non-negative count that some servers send as a string.
type flexInt int

// UnmarshalJSON accepts a non-negative integer, as a number or a string.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return typeError(b, reflect.TypeFor[uint]())
	}
	*n = flexInt(v)
	return nil
}

// typeError reports a value of the wrong type as encoding/json does, so that
// the decoder adds the field's path to it.
func typeError(b []byte, want reflect.Type) error {
	return &json.UnmarshalTypeError{Value: describeValue(b), Type: want}
}

// describeValue names a JSON value's type and shows it, as in `string "yes"`.
func describeValue(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string " + snippet(b[1:max(len(b)-1, 1)])
	case 't', 'f':
		return "bool " + string(b)
	case 'n':
		return "null"
	}
	return "number " + string(b)
}

// describeJSONError rewrites a type error in the terms of the JSON
// document ("emails.primary: want a boolean, got "yes"") rather than of the
// Go types it was decoded into.
func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return err
	}
	msg := fmt.Sprintf("want %s, got %s", jsonKind(typeErr.Type), typeErr.Value)
	if typeErr.Field != "" {
		msg = typeErr.Field + ": " + msg
	}
	return errors.New(msg)
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t == reflect.TypeFor[json.RawMessage]() {
			return "a JSON value"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}

// snippet returns the start of b, on one line, for an error message.
func snippet(b []byte) string {
	return strconv.Quote(oneLine(string(b), 80))
}

// oneLine folds s onto one line and cuts it after limit bytes.
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}
