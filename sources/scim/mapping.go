package scim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// errNoID is a resource without the id every SCIM resource must carry.
var errNoID = errors.New(`has no "id"`)

// mapUser turns a SCIM User into a sync.User. The email and name are taken
// as read (sync.Normalize cleans them); only a missing id is an error.
func mapUser(w wireUser, idAttr string) (sync.User, error) {
	if w.ID == "" {
		return sync.User{}, errNoID
	}
	ext, err := externalID(w.ID, w.ExternalID, idAttr)
	if err != nil {
		return sync.User{}, err
	}
	source := "Users/" + string(w.ID)
	if w.UserName != "" {
		source += " (" + w.UserName + ")"
	}
	return sync.User{
		ExternalID: ext,
		Email:      pickEmail(w),
		Name:       pickName(w),
		Disabled:   w.Active != nil && !bool(*w.Active),
		Source:     source,
	}, nil
}

// externalID returns the attribute chosen by id_attribute.
func externalID(id, externalID flexString, idAttr string) (string, error) {
	if idAttr == IDAttributeExternalID {
		if strings.TrimSpace(string(externalID)) == "" {
			return "", errors.New(`has no "externalId" (id_attribute is externalId)`)
		}
		return string(externalID), nil
	}
	return string(id), nil
}

// pickEmail returns the primary email, else the first of type work, else
// the first one, else userName when it looks like an address, else "".
func pickEmail(w wireUser) string {
	for _, e := range w.Emails {
		if e.Primary && strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	for _, e := range w.Emails {
		if strings.EqualFold(strings.TrimSpace(e.Type), "work") && strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	for _, e := range w.Emails {
		if strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	if looksLikeEmail(w.UserName) {
		return w.UserName
	}
	return ""
}

// looksLikeEmail reports whether s has the shape local@domain.
func looksLikeEmail(s string) bool {
	s = strings.TrimSpace(s)
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n") && !strings.Contains(domain, "@")
}

// pickName returns displayName, else name.formatted, else "givenName
// familyName", else userName.
func pickName(w wireUser) string {
	if s := strings.TrimSpace(w.DisplayName); s != "" {
		return s
	}
	if w.Name != nil {
		if s := strings.TrimSpace(w.Name.Formatted); s != "" {
			return s
		}
		if s := strings.TrimSpace(strings.TrimSpace(w.Name.GivenName) + " " + strings.TrimSpace(w.Name.FamilyName)); s != "" {
			return s
		}
	}
	return strings.TrimSpace(w.UserName)
}

// checkGroup returns what makes a listed group unusable, or nil.
func checkGroup(w wireGroup, idAttr string) error {
	if w.ID == "" {
		return errNoID
	}
	if _, err := externalID(w.ID, w.ExternalID, idAttr); err != nil {
		return err
	}
	if strings.TrimSpace(w.DisplayName) == "" {
		return fmt.Errorf(`has no "displayName"`)
	}
	return nil
}

// isGroupMember reports whether a member names a group: its type says so;
// with no type, its $ref points into /Groups/; with neither, its value is the
// id of a known group and of no known user (ids may repeat across resource
// types on servers that number them).
func isGroupMember(m wireMember, groups map[string]*wireGroup, userExt map[string]string) bool {
	if m.Type != "" {
		return strings.EqualFold(m.Type, "Group")
	}
	if ref := strings.ToLower(m.Ref); strings.Contains(ref, "/groups/") {
		return true
	} else if strings.Contains(ref, "/users/") {
		return false
	}
	if _, isUser := userExt[string(m.Value)]; isUser {
		return false
	}
	_, ok := groups[string(m.Value)]
	return ok
}

// flatten returns the users of group root and of every group nested in it,
// each once, as external ids: userExt maps a SCIM user id to the user's
// external id, and a value it does not know is kept as read (sync.Normalize
// drops members that name no user). A group met twice, as in a cycle, is
// expanded once.
func flatten(root string, groups map[string]*wireGroup, userExt map[string]string) []string {
	members := []string{}
	seenUser := make(map[string]bool)
	visited := map[string]bool{root: true}
	stack := []string{root}
	for len(stack) > 0 {
		g := groups[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if g == nil || g.Members == nil {
			continue
		}
		for _, m := range *g.Members {
			value := string(m.Value)
			switch {
			case value == "":
			case isGroupMember(m, groups, userExt):
				if !visited[value] {
					visited[value] = true
					stack = append(stack, value)
				}
			default:
				ext := value
				if e, ok := userExt[value]; ok {
					ext = e
				}
				if !seenUser[ext] {
					seenUser[ext] = true
					members = append(members, ext)
				}
			}
		}
	}
	return members
}
