package scimtest

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dirbridge/dirbridge/sources/sourcetest"
)

// list serves GET /Users or /Groups: a ListResponse sliced by startIndex
// and count (or by cursor), shaped by the quirk switches.
func (s *Server) list(all []Resource, groups bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		count, err := intParam(q, "count", s.opt.DefaultCount)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		count = max(count, 0)
		if s.opt.MaxCount > 0 {
			count = min(count, s.opt.MaxCount)
		}
		if s.opt.Cursor && q.Has("cursor") {
			s.listByCursor(w, q, all, count, groups)
			return
		}
		start, err := intParam(q, "startIndex", 1)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
		start = max(start, 1)
		if s.opt.IgnoreStartIndex || (s.opt.FirstPagePastEnd && start > len(all)) {
			start = 1
		}
		lo := min(start-1, len(all))
		page := all[lo:min(lo+count, len(all))]
		body := map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			"startIndex": start,
		}
		if !s.opt.OmitTotalResults {
			body["totalResults"] = len(all)
		}
		s.fill(body, page, count, q, groups)
		s.writeJSON(w, http.StatusOK, body)
	}
}

// listByCursor serves a cursor page: the cursor is the offset, as text.
func (s *Server) listByCursor(w http.ResponseWriter, q url.Values, all []Resource, count int, groups bool) {
	offset := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "c"))
		if err != nil || n < 0 || n > len(all) {
			s.writeError(w, http.StatusBadRequest, "invalidValue", "bad cursor "+c)
			return
		}
		offset = n
	}
	end := min(offset+count, len(all))
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}}
	if end < len(all) {
		body["nextCursor"] = fmt.Sprintf("c%d", end)
	}
	s.fill(body, all[offset:end], count, q, groups)
	s.writeJSON(w, http.StatusOK, body)
}

// fill puts a page's resources and itemsPerPage into body.
func (s *Server) fill(body map[string]any, page []Resource, count int, q url.Values, groups bool) {
	if s.opt.ItemsPerPageEchoesCount {
		body["itemsPerPage"] = count
	} else {
		body["itemsPerPage"] = len(page)
	}
	key := "Resources"
	if s.opt.LowercaseResources {
		key = "resources"
	}
	dropMembers := groups && (s.opt.GroupsWithoutMembers || strings.Contains(q.Get("excludedAttributes"), "members"))
	out := make([]Resource, 0, len(page))
	for _, res := range page {
		out = append(out, s.render(res, dropMembers))
	}
	switch {
	case len(out) > 0:
		body[key] = out
	case s.opt.EmptyResources == "null":
		body[key] = nil
	case s.opt.EmptyResources != "missing":
		body[key] = out
	}
}

// get serves GET /Users/{id} or /Groups/{id}.
func (s *Server) get(all []Resource, groups bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		for _, res := range all {
			if fmt.Sprint(res["id"]) == id {
				s.writeJSON(w, http.StatusOK, s.render(res, groups && s.opt.NoMembersByID))
				return
			}
		}
		s.writeError(w, http.StatusNotFound, "", "Resource "+id+" not found")
	}
}

// render returns the resource as served: a copy, without members when
// dropMembers, with active as a string when asked.
func (s *Server) render(res Resource, dropMembers bool) Resource {
	out := maps.Clone(res)
	if dropMembers {
		delete(out, "members")
	}
	if b, ok := out["active"].(bool); ok && s.opt.ActiveAsString {
		out["active"] = map[bool]string{true: "True", false: "False"}[b]
	}
	return out
}

// intParam reads an integer query parameter, def when absent.
func intParam(q url.Values, key string, def int) (int, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, got %q", key, v)
	}
	return n, nil
}

// FromFixture returns a fixture as SCIM resources: user ids "u-<key>",
// group ids "g-<key>", each user with one primary work email, a
// displayName and active, each group with its members typed User.
func FromFixture(f sourcetest.Fixture) (users, groups []Resource) {
	for _, p := range f.People {
		users = append(users, Resource{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"id":          "u-" + p.Key,
			"userName":    p.Email,
			"displayName": p.Name,
			"emails":      []any{map[string]any{"value": p.Email, "type": "work", "primary": true}},
			"active":      !p.Disabled,
		})
	}
	for _, t := range f.Teams {
		members := []any{}
		for _, k := range t.Members {
			members = append(members, map[string]any{"value": "u-" + k, "type": "User"})
		}
		groups = append(groups, Resource{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"id":          "g-" + t.Key,
			"displayName": t.Name,
			"members":     members,
		})
	}
	return users, groups
}
