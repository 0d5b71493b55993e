package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	stdsync "sync"
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
	n, notes := normalize(s)
	return n.Snapshot, notes
}

// normalized is a normalized snapshot with the index Diff needs: each
// user's position by external id, and each group's members as positions.
type normalized struct {
	Snapshot
	byID    map[string]int32
	members [][]int32
}

// indexSnapshot indexes a snapshot that is already normalized.
func indexSnapshot(s Snapshot) normalized {
	n := normalized{Snapshot: s, byID: make(map[string]int32, len(s.Users)), members: make([][]int32, len(s.Groups))}
	for i, u := range s.Users {
		n.byID[u.ExternalID] = int32(i)
	}
	for gi, g := range s.Groups {
		pos := make([]int32, 0, len(g.Members))
		for _, id := range g.Members {
			if i, ok := n.byID[id]; ok {
				pos = append(pos, i)
			}
		}
		n.members[gi] = pos
	}
	return n
}

func normalize(s Snapshot) (normalized, []Note) {
	var notes []Note
	// Trim, lower-case and check the emails on every CPU first; what is
	// left needs the maps, one user at a time. The kept users are compacted
	// in place: out.Users shares users' array, and only ever writes behind
	// the user being read.
	users := make([]User, len(s.Users))
	out := Snapshot{Users: users[:0], Held: slices.Clone(s.Held)}
	valid := make([]bool, len(s.Users))
	parallel(len(s.Users), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			u := s.Users[i]
			u.ExternalID = strings.TrimSpace(u.ExternalID)
			u.Email = strings.ToLower(strings.TrimSpace(u.Email))
			users[i], valid[i] = u, ValidEmail(u.Email)
		}
	})
	byID, ok := indexUnique(users, valid)
	if ok {
		// No user shares an id or an email: keep every one that has both.
		for i, u := range users {
			if u.ExternalID == "" || !valid[i] {
				notes, out.Held = leftOut(u, notes, out.Held)
				continue
			}
			out.Users = append(out.Users, u)
		}
	} else {
		byID, notes = dedupe(users, valid, &out, notes)
	}

	groups, groupNotes := checkGroups(s.Groups)
	resolved := resolveMembers(groups, byID, len(out.Users))
	out.Groups = make([]Group, 0, len(groups))
	positions := make([][]int32, 0, len(groups))
	for gi, g := range groups {
		notes = append(notes, groupNotes[gi]...)
		r := resolved[gi]
		if r.unknown > 0 {
			notes = append(notes, Note{Kind: "unknown_member", Subject: groupRef(g), Message: fmt.Sprintf("%d member(s) are not users of the directory read; left out of the group", r.unknown)})
		}
		if g.ExternalID == "" {
			continue // left out: its notes say why
		}
		g.Members = r.members
		out.Groups = append(out.Groups, g)
		positions = append(positions, r.pos)
	}
	return normalized{Snapshot: out, byID: byID, members: positions}, notes
}

// leftOut records a user without an external id or a valid email.
func leftOut(u User, notes []Note, held []string) ([]Note, []string) {
	if u.ExternalID == "" {
		return append(notes, Note{Kind: "missing_id", Subject: userRef(u), Message: "user has no external id; left out"}), held
	}
	msg := fmt.Sprintf("user has no valid email (%q); left out", u.Email)
	if u.Email == "" {
		msg = "user has no email; left out"
	}
	return append(notes, Note{Kind: "invalid_email", Subject: userRef(u), Message: msg}), append(held, u.ExternalID)
}

// indexUnique maps the external ids of the users that have one and a valid
// email to their positions among those users, and reports true, when no two
// of them share an id or an email: the common case, whose two maps it
// builds at once on two CPUs. Otherwise (false) the caller dedupes them one
// by one.
func indexUnique(users []User, valid []bool) (map[string]int32, bool) {
	var (
		wg              stdsync.WaitGroup
		byID            = make(map[string]int32, len(users))
		dupID, dupEmail bool
	)
	keep := func(i int) bool { return users[i].ExternalID != "" && valid[i] }
	wg.Go(func() {
		n := int32(0)
		for i := range users {
			if !keep(i) {
				continue
			}
			if _, dup := byID[users[i].ExternalID]; dup {
				dupID = true
				return
			}
			byID[users[i].ExternalID] = n
			n++
		}
	})
	wg.Go(func() {
		// Hashes, not emails, find duplicates here: a quarter of the memory,
		// no string compares. Two emails with one hash only send the
		// caller to the exact path.
		seed := maphash.MakeSeed()
		byEmail := make(map[uint64]struct{}, len(users))
		for i := range users {
			if !keep(i) {
				continue
			}
			h := maphash.String(seed, users[i].Email)
			if _, dup := byEmail[h]; dup {
				dupEmail = true
				return
			}
			byEmail[h] = struct{}{}
		}
	})
	wg.Wait()
	return byID, !dupID && !dupEmail
}

// dedupe keeps the users that have an external id, a valid email, and an
// id and an email no earlier kept user has (an enabled user wins an email
// over a disabled one), appending them to out.Users, the others to
// out.Held or the notes. It returns the kept users' positions by id.
func dedupe(users []User, valid []bool, out *Snapshot, notes []Note) (map[string]int32, []Note) {
	byID := make(map[string]int32, len(users))
	byEmail := make(map[string]int32, len(users))
	for i, u := range users {
		if u.ExternalID == "" || !valid[i] {
			notes, out.Held = leftOut(u, notes, out.Held)
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
		byID[u.ExternalID] = int32(len(out.Users))
		byEmail[u.Email] = int32(len(out.Users))
		out.Users = append(out.Users, u)
	}
	return byID, notes
}

// checkGroups trims and checks every group's id and name, in order. A
// group left out comes back with an empty external id; notes holds each
// group's notes.
func checkGroups(in []Group) (groups []Group, notes [][]Note) {
	groups, notes = make([]Group, len(in)), make([][]Note, len(in))
	groupIDs := make(map[string]bool, len(in))
	for gi, g := range in {
		g.ExternalID = strings.TrimSpace(g.ExternalID)
		g.Name = strings.TrimSpace(g.Name)
		note := func(kind, msg string) {
			notes[gi] = append(notes[gi], Note{Kind: kind, Subject: groupRef(g), Message: msg})
		}
		switch {
		case g.ExternalID == "":
			note("missing_id", "group has no external id; left out")
		case groupIDs[g.ExternalID]:
			note("duplicate_id", fmt.Sprintf("external id %q already used by another group; left out", g.ExternalID))
			g.ExternalID = ""
		default:
			groupIDs[g.ExternalID] = true
			if g.Name == "" {
				g.Name = g.ExternalID
				note("missing_name", "group has no name; named by its external id")
			}
			if short, ok := ShortenGroupName(g.Name); ok {
				note("long_group_name", fmt.Sprintf("name longer than %d characters; shortened to %q", MaxGroupNameLen, short))
				g.Name = short
			}
		}
		groups[gi] = g
	}
	return groups, notes
}

// resolvedGroup is one group's members: the kept ids and their user
// positions, and how many ids named no user.
type resolvedGroup struct {
	members []string
	pos     []int32
	unknown int
}

// resolveMembers de-duplicates each group's members and drops the ids that
// name no user, on every CPU: it is most of Normalize's work for a large
// directory.
func resolveMembers(groups []Group, byID map[string]int32, users int) []resolvedGroup {
	out := make([]resolvedGroup, len(groups))
	parallel(len(groups), func(_, lo, hi int) {
		// inGroup[i] is the number of the last group (+1) that listed
		// user i, so a user listed twice in one group is kept once.
		inGroup := make([]int32, users)
		for gi := lo; gi < hi; gi++ {
			g := groups[gi]
			if g.ExternalID == "" {
				continue
			}
			r := resolvedGroup{pos: make([]int32, 0, len(g.Members))}
			stamp := int32(gi + 1)
			var seenUnknown map[string]bool
			// While every id is kept as it is, the kept ids are a prefix of
			// g.Members: share it, and copy only once one is not.
			same := true
			diverge := func(j int) {
				if same {
					same = false
					r.members = append(make([]string, 0, len(g.Members)), g.Members[:j]...)
				}
			}
			for j, id := range g.Members {
				if trimmed := strings.TrimSpace(id); len(trimmed) != len(id) {
					diverge(j)
					id = trimmed
				}
				i, ok := byID[id]
				switch {
				case ok && inGroup[i] == stamp:
					diverge(j)
				case ok:
					inGroup[i] = stamp
					if !same {
						r.members = append(r.members, id)
					}
					r.pos = append(r.pos, i)
				default:
					diverge(j)
					if !seenUnknown[id] {
						if seenUnknown == nil {
							seenUnknown = map[string]bool{}
						}
						seenUnknown[id] = true
						r.unknown++
					}
				}
			}
			if same {
				r.members = g.Members
			}
			out[gi] = r
		}
	})
	return out
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
