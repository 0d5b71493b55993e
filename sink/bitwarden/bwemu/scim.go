package bwemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The SCIM schema URNs.
const (
	scimListSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

type scimList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    any      `json:"resources"`
}

type scimEmail struct {
	Primary bool   `json:"primary"`
	Value   string `json:"value"`
	Type    string `json:"type"`
}

type scimName struct {
	Formatted *string `json:"formatted"`
}

type scimMeta struct {
	ResourceType string     `json:"resourceType"`
	Created      *time.Time `json:"created,omitempty"`
	LastModified *time.Time `json:"lastModified,omitempty"`
}

type scimUser struct {
	Schemas      []string    `json:"schemas"`
	ID           string      `json:"id"`
	ExternalID   *string     `json:"externalId"`
	UserName     string      `json:"userName"`
	DisplayName  *string     `json:"displayName"`
	Name         scimName    `json:"name"`
	Emails       []scimEmail `json:"emails"`
	PrimaryEmail string      `json:"primaryEmail"`
	WorkEmail    string      `json:"workEmail"`
	Active       bool        `json:"active"`
	Groups       []string    `json:"groups"`
	Meta         scimMeta    `json:"meta"`
}

type scimGroup struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	ExternalID  *string  `json:"externalId"`
	Meta        scimMeta `json:"meta"`
}

type scimError struct {
	Schemas []string `json:"schemas"`
	Detail  string   `json:"detail"`
	Status  int      `json:"status"`
}

// scim wraps a SCIM handler with the API-key check: 401 with no body unless
// SCIM is enabled, the organization in the URL exists and the key matches
// (the "Bearer " prefix is optional).
func (s *Server) scim(h func(st *state, r *http.Request) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		ok := !s.opt.Vaultwarden && s.scimOn && r.PathValue("org") == s.st.org.id && key != "" && key == s.scimKey
		var status int
		var body any
		if ok {
			status, body = h(s.st, r)
		}
		s.mu.Unlock()
		if !ok {
			writeEmpty(w, http.StatusUnauthorized)
			return
		}
		writeSCIM(w, status, body)
	}
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, "application/scim+json; charset=utf-8", v)
}

func scimNotFound(detail string) (int, any) {
	return http.StatusNotFound, scimError{Schemas: []string{scimErrorSchema}, Detail: detail, Status: http.StatusNotFound}
}

func scimUserOf(m *member) scimUser {
	return scimUser{
		Schemas:      []string{scimUserSchema},
		ID:           m.id,
		ExternalID:   nullable(m.externalID),
		UserName:     m.email,
		DisplayName:  nullable(m.name),
		Name:         scimName{Formatted: nullable(m.name)},
		Emails:       []scimEmail{{Primary: true, Value: m.email, Type: "work"}},
		PrimaryEmail: m.email,
		WorkEmail:    m.email,
		Active:       m.status != StatusRevoked,
		Groups:       []string{},
		Meta:         scimMeta{ResourceType: "User"},
	}
}

func scimGroupOf(g *group) scimGroup {
	rev := g.revision
	return scimGroup{
		Schemas:     []string{scimGroupSchema},
		ID:          g.id,
		DisplayName: g.name,
		ExternalID:  nullable(g.externalID),
		Meta:        scimMeta{ResourceType: "Group", Created: &rev, LastModified: &rev},
	}
}

// scimPage reads startIndex (1-based) and count (default 50).
func scimPage(r *http.Request) (start, count int) {
	start, count = 1, 50
	if n, err := strconv.Atoi(r.URL.Query().Get("startIndex")); err == nil && n > 0 {
		start = n
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("count")); err == nil && n >= 0 {
		count = n
	}
	return start, count
}

func page[T any](all []T, start, count int) []T {
	from := min(start-1, len(all))
	to := min(from+count, len(all))
	return all[from:to]
}

// scimListUsers is GetUsersListQuery: userName eq (only with an '@',
// case-insensitive) or externalId eq (exact); other filters give nothing;
// no filter pages through the members sorted by email.
func (s *Server) scimListUsers(st *state, r *http.Request) (int, any) {
	filter := r.URL.Query().Get("filter")
	lower := strings.ToLower(filter)
	var users []scimUser
	start, count := scimPage(r)
	switch {
	case strings.HasPrefix(lower, "username eq "):
		if email := strings.Trim(lower[12:], `"`); strings.Contains(email, "@") {
			for _, m := range st.byEmail[email] {
				users = append(users, scimUserOf(m))
			}
		}
		start = 1
	case strings.HasPrefix(lower, "externalid eq "):
		for _, m := range st.byExt[strings.Trim(filter[14:], `"`)] {
			users = append(users, scimUserOf(m))
		}
		start = 1
	case filter != "":
		start = 1
	default:
		var all []*member
		st.eachMember(func(m *member) { all = append(all, m) })
		slices.SortStableFunc(all, func(a, b *member) int { return strings.Compare(a.email, b.email) })
		for _, m := range page(all, start, count) {
			users = append(users, scimUserOf(m))
		}
		return http.StatusOK, scimList{Schemas: []string{scimListSchema}, TotalResults: len(all),
			StartIndex: start, ItemsPerPage: len(users), Resources: nonNil(users)}
	}
	return http.StatusOK, scimList{Schemas: []string{scimListSchema}, TotalResults: len(users),
		StartIndex: start, ItemsPerPage: len(users), Resources: nonNil(users)}
}

func (s *Server) scimGetUser(st *state, r *http.Request) (int, any) {
	m := st.members[strings.ToLower(r.PathValue("id"))]
	if m == nil {
		return scimNotFound("User not found.")
	}
	return http.StatusOK, scimUserOf(m)
}

// scimListGroups filters on displayName eq / externalId eq (case-sensitive
// prefixes), else pages through the groups sorted by name.
func (s *Server) scimListGroups(st *state, r *http.Request) (int, any) {
	filter := r.URL.Query().Get("filter")
	start, count := scimPage(r)
	var match func(g *group) bool
	switch {
	case strings.HasPrefix(filter, "displayName eq "):
		name := strings.Trim(filter[15:], `"`)
		match = func(g *group) bool { return g.name == name }
	case strings.HasPrefix(filter, "externalId eq "):
		ext := strings.Trim(filter[14:], `"`)
		match = func(g *group) bool { return g.externalID == ext }
	}
	var all []*group
	for _, g := range st.groupOrder {
		if match == nil || match(g) {
			all = append(all, g)
		}
	}
	if match != nil {
		start, count = 1, len(all)
	}
	slices.SortStableFunc(all, func(a, b *group) int { return strings.Compare(a.name, b.name) })
	var groups []scimGroup
	for _, g := range page(all, start, count) {
		groups = append(groups, scimGroupOf(g))
	}
	return http.StatusOK, scimList{Schemas: []string{scimListSchema}, TotalResults: len(all),
		StartIndex: start, ItemsPerPage: len(groups), Resources: nonNil(groups)}
}

func (s *Server) scimGetGroup(st *state, r *http.Request) (int, any) {
	g := st.groups[strings.ToLower(r.PathValue("id"))]
	if g == nil {
		return scimNotFound("Group not found.")
	}
	return http.StatusOK, scimGroupOf(g)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
