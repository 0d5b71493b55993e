package scim

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeListResponse(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		wantTotal int // -1: absent
		wantN     int
		wantNext  string
	}{
		{"RFC", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"itemsPerPage":2,"startIndex":1,"Resources":[{"id":"a"},{"id":"b"}]}`, 3, 2, ""},
		{"ItemsPerPageLies", `{"totalResults":3,"itemsPerPage":100,"Resources":[{"id":"a"}]}`, 3, 1, ""},
		{"ResourcesMissing", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0}`, 0, 0, ""},
		{"ResourcesNull", `{"totalResults":0,"Resources":null}`, 0, 0, ""},
		{"LowerCaseResources", `{"totalResults":1,"resources":[{"id":"a"}]}`, 1, 1, ""},
		{"TotalAsString", `{"totalResults":"12","Resources":[]}`, 12, 0, ""},
		{"NoTotal", `{"Resources":[{"id":"a"}]}`, -1, 1, ""},
		{"OnlySchemas", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"]}`, -1, 0, ""},
		{"Cursor", `{"itemsPerPage":1,"nextCursor":"VGhpcy","Resources":[{"id":"a"}]}`, -1, 1, "VGhpcy"},
		{"CursorNull", `{"nextCursor":null,"Resources":[]}`, -1, 0, ""},
		{"Whitespace", " \n\t{\"totalResults\": 0}\n", 0, 0, ""},
		{"ExtraKeys", `{"totalResults":1,"Resources":[{"id":"a"}],"x-vendor":{"a":[1,2]}}`, 1, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeListResponse([]byte(tc.body))
			if err != nil {
				t.Fatalf("decodeListResponse: %v", err)
			}
			gotTotal := -1
			if p.TotalResults != nil {
				gotTotal = *p.TotalResults
			}
			if gotTotal != tc.wantTotal || len(p.Resources) != tc.wantN || p.NextCursor != tc.wantNext {
				t.Errorf("got total %d, %d resources, next %q; want %d, %d, %q",
					gotTotal, len(p.Resources), p.NextCursor, tc.wantTotal, tc.wantN, tc.wantNext)
			}
		})
	}
}

func TestDecodeListResponse_Rejects(t *testing.T) {
	cases := []struct {
		name, body, want string
		bad              bool // wraps ErrBadResponse
	}{
		{"Empty", ``, "empty body", true},
		{"Null", `null`, `want a JSON object, got "null"`, true},
		{"Array", `[]`, `want a JSON object`, true},
		{"String", `"Resources"`, `want a JSON object`, true},
		{"Truncated", `{"totalResults":1,"Resources":[{"id":"a"}`, "unexpected end of JSON input", false},
		{"Trailing", `{"totalResults":0} {}`, "invalid character", false},
		{"NotAList", `{"id":"a","userName":"b"}`, "not a SCIM ListResponse", true},
		{"SCIMError", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"detail":"no"}`, "status 400: no", true},
		{"ResourcesObject", `{"totalResults":1,"Resources":{}}`, "Resources: want an array, got object", false},
		{"ResourcesString", `{"totalResults":1,"Resources":"a"}`, "Resources: want an array, got string", false},
		{"TotalNegative", `{"totalResults":-1}`, "totalResults: want a non-negative integer, got number -1", false},
		{"TotalFloat", `{"totalResults":1.5}`, "totalResults: want a non-negative integer, got number 1.5", false},
		{"TotalHuge", `{"totalResults":1e30}`, "totalResults: want a non-negative integer", false},
		{"TotalWord", `{"totalResults":"many"}`, `totalResults: want a non-negative integer, got string "many"`, false},
		{"TotalBool", `{"totalResults":true}`, "totalResults: want a non-negative integer, got bool true", false},
		{"CursorObject", `{"nextCursor":{}}`, "nextCursor: want a string, got object", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeListResponse([]byte(tc.body))
			if err == nil {
				t.Fatalf("decodeListResponse(%s) succeeded", tc.body)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if got := errors.Is(err, ErrBadResponse); got != tc.bad {
				t.Errorf("errors.Is(ErrBadResponse) = %v, want %v (error %v)", got, tc.bad, err)
			}
		})
	}
}

func TestDecodeGroup_MembersAbsentOrEmpty(t *testing.T) {
	cases := []struct {
		body       string
		wantAbsent bool
		wantN      int
	}{
		{`{"id":"g","displayName":"G"}`, true, 0},
		{`{"id":"g","displayName":"G","members":null}`, true, 0},
		{`{"id":"g","displayName":"G","members":[]}`, false, 0},
		{`{"id":"g","displayName":"G","members":[{"value":"u1"},{"value":7,"type":"User","$ref":"x","display":"D"}]}`, false, 2},
	}
	for _, tc := range cases {
		g, err := decodeGroup([]byte(tc.body))
		if err != nil {
			t.Fatalf("decodeGroup(%s): %v", tc.body, err)
		}
		if (g.Members == nil) != tc.wantAbsent {
			t.Errorf("decodeGroup(%s): members absent = %v, want %v", tc.body, g.Members == nil, tc.wantAbsent)
		}
		if g.Members != nil && len(*g.Members) != tc.wantN {
			t.Errorf("decodeGroup(%s): %d members, want %d", tc.body, len(*g.Members), tc.wantN)
		}
	}
}

// FuzzDecodeListResponse feeds arbitrary bytes through everything that
// reads a server's answer: the envelope, each resource as a user and as a
// group, the mapping and the error body. None of it may panic, and what
// decodes must be self-consistent.
func FuzzDecodeListResponse(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"Resources":[{"id":"a","userName":"a@x","emails":[{"value":"a@x","primary":true}],"active":"False"},{"id":"b","displayName":"G","members":[{"value":"a","type":"User"}]}]}`,
		`{"totalResults":"3","resources":null,"nextCursor":"c1"}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"bad"}`,
		`{"Resources":[1,"x",null,{"id":5,"emails":{},"name":[]}]}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = newResponseError("GET", "/Users", 500, data).Error()
		_ = scimErrorText(data)
		p, err := decodeListResponse(data)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if p.TotalResults != nil && *p.TotalResults < 0 {
			t.Errorf("negative totalResults %d", *p.TotalResults)
		}
		for _, raw := range p.Resources {
			_ = rawID(raw)
			if w, err := decodeUser(raw); err == nil {
				for _, attr := range []string{IDAttributeID, IDAttributeExternalID} {
					if u, err := mapUser(w, attr); err == nil && u.ExternalID == "" {
						t.Errorf("mapUser(%s, %s) gave an empty external id", raw, attr)
					}
				}
			}
			if g, err := decodeGroup(raw); err == nil && checkGroup(g, IDAttributeID) == nil {
				byID := map[string]*wireGroup{string(g.ID): &g}
				_ = flatten(string(g.ID), byID, nil)
			}
		}
	})
}
