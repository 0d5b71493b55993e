package bwemu

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// orgSettings is the organization row.
type orgSettings struct {
	id                string
	name              string
	seats             *int
	maxAutoscaleSeats *int
	storage           int
	selfHosted        bool
	useGroups         bool
	useDirectory      bool
}

// member is one stored membership. Every change to a field that an index
// or counter depends on (email, externalID, status, typ) goes through
// state.update so that the indexes stay right.
type member struct {
	seq           int64
	removed       bool
	id            string
	userID        string
	email         string
	name          string
	externalID    string
	ssoExternalID string
	status        int
	prevStatus    int
	typ           int
	collections   []CollectionAccess
	permissions   *Permissions
	twoFactor     bool
	resetPassword bool
	hasMP         bool
	groups        map[*group]struct{}
	invitations   int
	revision      time.Time
}

// hasMasterPassword is what the import's overwrite guard sees: a LEFT JOIN
// on the user, so members without a user never have one.
func (m *member) hasMasterPassword() bool { return m.userID != "" && m.hasMP }

// occupiesSeat reports whether the member counts toward the seat total
// (statuses Invited, Accepted and Confirmed).
func occupiesSeat(status int) bool {
	return status == StatusInvited || status == StatusAccepted || status == StatusConfirmed
}

// group is one stored group.
type group struct {
	seq         int64
	id          string
	name        string
	externalID  string
	collections []CollectionAccess
	members     map[*member]struct{}
	revision    time.Time
}

// index maps a key to the members holding it; seeds may hold duplicates (the
// import turns stored duplicate externalIds into a 500), so it keeps a list.
type index map[string][]*member

func (ix index) add(key string, m *member) { ix[key] = append(ix[key], m) }

func (ix index) remove(key string, m *member) {
	list := ix[key]
	for i, x := range list {
		if x == m {
			list = slices.Delete(list, i, i+1)
			break
		}
	}
	if len(list) == 0 {
		delete(ix, key)
		return
	}
	ix[key] = list
}

// state is the organization's data with the indexes every hot path needs:
// members by id, lowercased email and externalId, and running counts of
// occupied seats and confirmed owners.
type state struct {
	org         orgSettings
	collections map[string]bool
	collOrder   []string
	members     map[string]*member
	order       []*member // listing order; removed entries are compacted lazily
	dead        int
	byEmail     index // lowercased email
	byExt       index // exact externalId, non-blank only
	groups      map[string]*group
	groupOrder  []*group
	seq         int64
	occupied    int
	confOwners  int
}

func newState(org orgSettings) *state {
	return &state{
		org:         org,
		collections: map[string]bool{},
		members:     map[string]*member{},
		byEmail:     index{},
		byExt:       index{},
		groups:      map[string]*group{},
	}
}

func (st *state) index(m *member) {
	st.byEmail.add(strings.ToLower(m.email), m)
	if !isBlank(m.externalID) {
		st.byExt.add(m.externalID, m)
	}
	if occupiesSeat(m.status) {
		st.occupied++
	}
	if m.typ == TypeOwner && m.status == StatusConfirmed {
		st.confOwners++
	}
}

func (st *state) unindex(m *member) {
	st.byEmail.remove(strings.ToLower(m.email), m)
	if !isBlank(m.externalID) {
		st.byExt.remove(m.externalID, m)
	}
	if occupiesSeat(m.status) {
		st.occupied--
	}
	if m.typ == TypeOwner && m.status == StatusConfirmed {
		st.confOwners--
	}
}

// update applies change to m while keeping the indexes right, and stamps the
// member's revision date.
func (st *state) update(m *member, now time.Time, change func(m *member)) {
	st.unindex(m)
	change(m)
	m.revision = now
	st.index(m)
}

func (st *state) addMember(m *member) {
	st.seq++
	m.seq = st.seq
	if m.groups == nil {
		m.groups = map[*group]struct{}{}
	}
	st.members[m.id] = m
	st.order = append(st.order, m)
	st.index(m)
}

func (st *state) removeMember(m *member) {
	st.unindex(m)
	for g := range m.groups {
		delete(g.members, m)
	}
	m.groups = nil
	m.removed = true
	delete(st.members, m.id)
	st.dead++
	if st.dead > 64 && st.dead > len(st.order)/2 {
		st.order = slices.DeleteFunc(st.order, func(m *member) bool { return m.removed })
		st.dead = 0
	}
}

// eachMember calls fn for every member in listing order.
func (st *state) eachMember(fn func(m *member)) {
	for _, m := range st.order {
		if !m.removed {
			fn(m)
		}
	}
}

func (st *state) addGroup(g *group) {
	st.seq++
	g.seq = st.seq
	if g.members == nil {
		g.members = map[*member]struct{}{}
	}
	st.groups[g.id] = g
	st.groupOrder = append(st.groupOrder, g)
}

func (st *state) removeGroup(g *group) {
	for m := range g.members {
		delete(m.groups, g)
	}
	delete(st.groups, g.id)
	st.groupOrder = slices.DeleteFunc(st.groupOrder, func(x *group) bool { return x == g })
}

// setGroupMembers replaces g's members with ms, skipping removed members.
func (st *state) setGroupMembers(g *group, ms []*member, now time.Time) {
	for m := range g.members {
		delete(m.groups, g)
	}
	g.members = make(map[*member]struct{}, len(ms))
	for _, m := range ms {
		if m.removed {
			continue
		}
		g.members[m] = struct{}{}
		m.groups[g] = struct{}{}
	}
	g.revision = now
}

// setMemberGroups replaces m's groups with gs.
func (st *state) setMemberGroups(m *member, gs []*group, now time.Time) {
	for g := range m.groups {
		delete(g.members, m)
		g.revision = now
	}
	m.groups = make(map[*group]struct{}, len(gs))
	for _, g := range gs {
		m.groups[g] = struct{}{}
		g.members[m] = struct{}{}
		g.revision = now
	}
}

// knownEmail reports whether any member, in any status, has the email,
// compared case-insensitively like the database collation.
func (st *state) knownEmail(email string) bool {
	return len(st.byEmail[strings.ToLower(email)]) > 0
}

// confirmedOwnersExcept counts confirmed owners other than m.
func (st *state) confirmedOwnersExcept(m *member) int {
	n := st.confOwners
	if m != nil && m.typ == TypeOwner && m.status == StatusConfirmed {
		n--
	}
	return n
}

// sortedGroupIDs returns the ids of m's groups, sorted.
func sortedGroupIDs(m *member) []string {
	ids := make([]string, 0, len(m.groups))
	for g := range m.groups {
		ids = append(ids, g.id)
	}
	slices.Sort(ids)
	return ids
}

// sortedMemberIDs returns the ids of g's members, sorted.
func sortedMemberIDs(g *group) []string {
	ids := make([]string, 0, len(g.members))
	for m := range g.members {
		ids = append(ids, m.id)
	}
	slices.Sort(ids)
	return ids
}

// newGUID returns a random version-4 GUID in lowercase 8-4-4-4-12 form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// parseGUID accepts the 8-4-4-4-12 form in any case and returns it lowercased.
func parseGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !isHex(c) {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isBlank is C#'s string.IsNullOrWhiteSpace.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func cloneAccess(c []CollectionAccess) []CollectionAccess {
	if c == nil {
		return nil
	}
	return slices.Clone(c)
}
