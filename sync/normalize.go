package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxGroupNameLen is the longest group name Bitwarden accepts, counted as
// the server counts it (UTF-16 code units).
const MaxGroupNameLen = 100

// MaxEmailLen is the longest email Bitwarden accepts.
const MaxEmailLen = 256

// Normalize returns the snapshot as the diff needs it, and a note for every
// entry it changed or left out:
//
//   - emails are trimmed and lower-cased;
//   - a user without an external id, without a valid email, or with the
//     email of an earlier user is left out (an enabled user is kept over a
//     disabled one with the same email);
//   - a group without an external id, or with the id of an earlier group,
//     is left out; a group without a name is named by its id; a name longer
//     than MaxGroupNameLen is shortened deterministically;
//   - group members are de-duplicated, and ids that name no kept user are
//     dropped.
//
// The external ids of users left out go to Snapshot.Held: the directory
// still holds them, so the diff must not treat them as gone.
func Normalize(s Snapshot) (Snapshot, []Note) {
	var notes []Note
	out := Snapshot{Users: make([]User, 0, len(s.Users)), Held: slices.Clone(s.Held)}
	byID := make(map[string]int, len(s.Users))
	byEmail := make(map[string]int, len(s.Users))
	for _, u := range s.Users {
		u.ExternalID = strings.TrimSpace(u.ExternalID)
		u.Email = strings.ToLower(strings.TrimSpace(u.Email))
		switch {
		case u.ExternalID == "":
			notes = append(notes, Note{Kind: "missing_id", Subject: userRef(u), Message: "user has no external id; left out"})
			continue
		case !ValidEmail(u.Email):
			msg := fmt.Sprintf("user has no valid email (%q); left out", u.Email)
			if u.Email == "" {
				msg = "user has no email; left out"
			}
			notes = append(notes, Note{Kind: "invalid_email", Subject: userRef(u), Message: msg})
			out.Held = append(out.Held, u.ExternalID)
			continue
		}
		if _, dup := byID[u.ExternalID]; dup {
			notes = append(notes, Note{Kind: "duplicate_id", Subject: userRef(u), Message: fmt.Sprintf("external id %q already used by another user; left out", u.ExternalID)})
			continue
		}
		if i, dup := byEmail[u.Email]; dup {
			kept := out.Users[i]
			if kept.Disabled && !u.Disabled {
				// Keep the enabled one: it is the account in use.
				out.Users[i] = u
				delete(byID, kept.ExternalID)
				byID[u.ExternalID] = i
				u = kept
			}
			notes = append(notes, Note{Kind: "duplicate_email", Subject: userRef(u), Message: fmt.Sprintf("email %s already used by %s; left out", u.Email, userRef(out.Users[i]))})
			out.Held = append(out.Held, u.ExternalID)
			continue
		}
		byID[u.ExternalID] = len(out.Users)
		byEmail[u.Email] = len(out.Users)
		out.Users = append(out.Users, u)
	}

	out.Groups = make([]Group, 0, len(s.Groups))
	// inGroup[i] is the number of the last group that listed user i.
	inGroup := make([]int32, len(out.Users))
	groupIDs := make(map[string]bool, len(s.Groups))
	for _, g := range s.Groups {
		g.ExternalID = strings.TrimSpace(g.ExternalID)
		g.Name = strings.TrimSpace(g.Name)
		switch {
		case g.ExternalID == "":
			notes = append(notes, Note{Kind: "missing_id", Subject: groupRef(g), Message: "group has no external id; left out"})
			continue
		case groupIDs[g.ExternalID]:
			notes = append(notes, Note{Kind: "duplicate_id", Subject: groupRef(g), Message: fmt.Sprintf("external id %q already used by another group; left out", g.ExternalID)})
			continue
		}
		groupIDs[g.ExternalID] = true
		if g.Name == "" {
			g.Name = g.ExternalID
			notes = append(notes, Note{Kind: "missing_name", Subject: groupRef(g), Message: "group has no name; named by its external id"})
		}
		if short, ok := ShortenGroupName(g.Name); ok {
			notes = append(notes, Note{Kind: "long_group_name", Subject: groupRef(g), Message: fmt.Sprintf("name longer than %d characters; shortened to %q", MaxGroupNameLen, short)})
			g.Name = short
		}
		members := make([]string, 0, len(g.Members))
		// A user is seen in this group when its stamp is the group's number;
		// ids that name no user (rare) are remembered in a map.
		stamp := int32(len(out.Groups) + 1)
		var seenUnknown map[string]bool
		unknown := 0
		for _, id := range g.Members {
			id = strings.TrimSpace(id)
			i, ok := byID[id]
			switch {
			case ok && inGroup[i] == stamp:
			case ok:
				inGroup[i] = stamp
				members = append(members, id)
			case !seenUnknown[id]:
				if seenUnknown == nil {
					seenUnknown = map[string]bool{}
				}
				seenUnknown[id] = true
				unknown++
			}
		}
		if unknown > 0 {
			notes = append(notes, Note{Kind: "unknown_member", Subject: groupRef(g), Message: fmt.Sprintf("%d member(s) are not users of the directory read; left out of the group", unknown)})
		}
		g.Members = members
		out.Groups = append(out.Groups, g)
	}
	return out, notes
}

// ShortenGroupName returns name cut to MaxGroupNameLen UTF-16 code units, and
// true, when it is longer. The cut keeps a prefix and appends "~" and eight
// hex digits of the full name's SHA-256, so two long names that share a
// prefix stay distinct and a name always shortens the same way.
func ShortenGroupName(name string) (string, bool) {
	if utf16Len(name) <= MaxGroupNameLen {
		return name, false
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "~" + hex.EncodeToString(sum[:4])
	budget := MaxGroupNameLen - len(suffix)
	n := 0
	cut := 0
	for i, r := range name {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if n+w > budget {
			cut = i
			break
		}
		n += w
	}
	return strings.TrimSpace(name[:cut]) + suffix, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// ValidEmail reports whether s is an address Bitwarden will accept for an
// invitation: one @, a non-empty local part of printable ASCII or UTF-8
// without spaces or quotes, and a dotted domain of letters, digits and
// hyphens. It is deliberately a little stricter than RFC 5322, as the server is.
func ValidEmail(s string) bool {
	if len(s) == 0 || len(s) > MaxEmailLen || !utf8.ValidString(s) {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("\"(),:;<>@[\\]", r) {
			return false
		}
	}
	if !strings.Contains(domain, ".") {
		return false
	}
	for rest, more := domain, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, ".")
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f) {
				return false
			}
		}
	}
	return true
}

func userRef(u User) string {
	switch {
	case u.Source != "":
		return u.Source
	case u.ExternalID != "":
		return "user " + u.ExternalID
	case u.Email != "":
		return "user " + u.Email
	}
	return "user " + u.Name
}

func groupRef(g Group) string {
	switch {
	case g.Source != "":
		return g.Source
	case g.ExternalID != "":
		return "group " + g.ExternalID
	}
	return "group " + g.Name
}
