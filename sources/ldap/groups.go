package ldap

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirbridge/dirbridge/sync"
)

// memberKind is what a group's member values hold.
type memberKind int

const (
	memberUnknown  memberKind = iota
	memberDN                  // member: DNs of users and nested groups
	memberUniqueDN            // uniqueMember: DNs, with an optional #'0101'B suffix
	memberUID                 // memberUid: user names, matched against users.uid_attribute
)

func kindOf(attr string) memberKind {
	switch strings.ToLower(attr) {
	case "member":
		return memberDN
	case "uniquemember":
		return memberUniqueDN
	case "memberuid":
		return memberUID
	}
	return memberUnknown
}

// adRangeSize is the window of member values asked for at a time on Active
// Directory, whose MaxValRange is 1500. Samba cuts ranges only when asked,
// so the source always asks.
const adRangeSize = 1500

// rawGroup is a group as read, before nesting is resolved.
type rawGroup struct {
	sync.Group
	key    string   // canonical DN
	users  []int32  // direct user members, as indexes into the users
	nested []string // canonical DNs of the other members: groups, or out of scope
}

// groupReader turns group entries into rawGroups.
type groupReader struct {
	cfg    GroupSearch
	idRule idRule
	kind   memberKind
	ranged bool // ask for member;range=0-1499 (Active Directory)
	users  *userReader
	logger *slog.Logger
	debug  bool

	groups  []rawGroup
	ids     map[string]string // external id -> DN
	pending []rangeFetch      // groups with more member values to fetch
	bad     []error
	buf     []byte
}

// rangeFetch is the next window of a group's member values.
type rangeFetch struct {
	group int
	low   int
	size  int
}

func (r *groupReader) attributes() []string {
	attrs := []string{"cn"}
	if r.idRule.attr != "" {
		attrs = append(attrs, r.idRule.attr)
	}
	if !strings.EqualFold(r.cfg.NameAttribute, "cn") {
		attrs = append(attrs, r.cfg.NameAttribute)
	}
	if r.ranged {
		return append(attrs, rangeAttr(r.cfg.MemberAttribute, 0, adRangeSize))
	}
	return append(attrs, r.cfg.MemberAttribute)
}

func rangeAttr(attr string, low, size int) string {
	return attr + ";range=" + strconv.Itoa(low) + "-" + strconv.Itoa(low+size-1)
}

// add reads one group entry.
func (r *groupReader) add(e *entry) error {
	dn := e.DN()
	var err error
	if r.buf, err = appendCanonical(r.buf[:0], dn); err != nil {
		return &EntryError{DN: dn, Err: fmt.Errorf("the server sent a malformed DN: %w", err)}
	}
	g := rawGroup{key: string(r.buf)}
	g.Source = dn
	var id, cn []byte
	for _, a := range e.attrs {
		v := e.first(a)
		if v == nil {
			continue
		}
		if r.idRule.attr != "" && equalFold(a.name, r.idRule.attr) {
			id = v
		}
		if equalFold(a.name, r.cfg.NameAttribute) {
			g.Name = string(v)
		}
		if equalFold(a.name, "cn") {
			cn = v
		}
	}
	if g.ExternalID, err = r.idRule.id(dn, g.key, id); err != nil {
		r.bad = append(r.bad, &EntryError{DN: dn, Err: err})
		return nil
	}
	if other, dup := r.ids[g.ExternalID]; dup {
		r.bad = append(r.bad, &EntryError{DN: dn, Err: fmt.Errorf("%w (%s): %s", ErrDuplicateID, g.ExternalID, other)})
		return nil
	}
	r.ids[g.ExternalID] = dn
	if g.Name == "" {
		g.Name = or(string(cn), firstRDNValue(dn))
	}
	r.groups = append(r.groups, g)
	r.members(len(r.groups)-1, e)
	return nil
}

// members adds the member values of e to group i, and notes the next range
// to fetch when the server sent only a window of them.
func (r *groupReader) members(i int, e *entry) {
	attr := r.cfg.MemberAttribute
	for _, a := range e.attrs {
		name := a.name
		if len(name) < len(attr) || !equalFold(name[:len(attr)], attr) {
			continue
		}
		if len(name) > len(attr) {
			low, high, ok := parseRange(string(name[len(attr):]))
			if !ok {
				continue // another option, or another attribute (memberOf)
			}
			if high >= 0 { // not the last window: "member;range=0-1499"
				r.pending = append(r.pending, rangeFetch{group: i, low: high + 1, size: high - low + 1})
			}
		}
		for _, v := range e.values(a) {
			r.member(&r.groups[i], v)
		}
	}
}

// parseRange parses ";range=<low>-<high>" (case-insensitively), with high -1
// for "*", the last window.
func parseRange(opt string) (low, high int, ok bool) {
	const p = ";range="
	if len(opt) <= len(p) || !strings.EqualFold(opt[:len(p)], p) {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(opt[len(p):], "-")
	if !found {
		return 0, 0, false
	}
	low, err := strconv.Atoi(lo)
	if err != nil {
		return 0, 0, false
	}
	if hi == "*" {
		return low, -1, true
	}
	high, err = strconv.Atoi(hi)
	if err != nil || high < low {
		return 0, 0, false
	}
	return low, high, true
}

// member adds one member value to g.
func (r *groupReader) member(g *rawGroup, v []byte) {
	if r.kind == memberUID {
		r.buf = appendLower(r.buf[:0], v, 0, len(v))
		i, ok := r.users.byUID[string(r.buf)]
		if !ok && !isASCII(v) { // fold it the long way
			i, ok = r.users.byUID[strings.ToLower(string(v))]
		}
		if ok {
			g.users = append(g.users, i)
		} else if r.debug {
			r.logger.Debug("memberUid matches no user of the user search; ignored", "group", g.Source, "member", string(v))
		}
		return
	}
	if r.kind == memberUniqueDN {
		v = stripUID(v)
	}
	var err error
	if r.buf, err = appendCanonical(r.buf[:0], v); err != nil {
		r.logger.Warn("member value is not a DN; ignored", "group", g.Source, "member", string(v), "error", err)
		return
	}
	if i, ok := r.users.byDN[string(r.buf)]; ok {
		g.users = append(g.users, i)
		return
	}
	key := string(r.buf)
	if isDeletedObject(key) {
		if r.debug {
			r.logger.Debug("member is a deleted object; ignored", "group", g.Source, "member", string(v))
		}
		return
	}
	g.nested = append(g.nested, key)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// stripUID removes the optional unique identifier, a bit string such as
// #'0101'B, that a uniqueMember value may carry after the DN (RFC 4517
// nameAndOptionalUID).
func stripUID(v []byte) []byte {
	if !bytes.HasSuffix(v, []byte("'B")) {
		return v
	}
	i := bytes.LastIndex(v, []byte("#'"))
	if i <= 0 {
		return v
	}
	for _, c := range v[i+2 : len(v)-2] {
		if c != '0' && c != '1' {
			return v
		}
	}
	return v[:i]
}

// firstRDNValue returns the value of the first RDN of dn, or dn itself.
func firstRDNValue(dn string) string {
	if d, err := ldap.ParseDN(dn); err == nil && len(d.RDNs) > 0 && len(d.RDNs[0].Attributes) > 0 {
		return d.RDNs[0].Attributes[0].Value
	}
	return dn
}

// fetchRanges reads the remaining member values of every group that came
// back with only a window of them, one window at a time.
func (r *groupReader) fetchRanges(ctx context.Context, s *session) error {
	for len(r.pending) > 0 {
		f := r.pending[0]
		r.pending = r.pending[1:]
		g := &r.groups[f.group]
		q := query{
			name: "members of " + g.Source, base: g.Source, scope: ldap.ScopeBaseObject,
			filter: "(objectClass=*)", attrs: []string{rangeAttr(r.cfg.MemberAttribute, f.low, f.size)},
		}
		if r.debug {
			r.logger.Debug("reading a further range of members", "group", g.Source, "attribute", q.attrs[0])
		}
		err := s.one(ctx, q, 0, func(e *entry) error {
			r.members(f.group, e)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// resolve flattens nested groups: each group gets the users of every group it
// contains, transitively. Cycles are harmless; member DNs that are neither a
// user nor a group of the searches are ignored with a debug line.
func (r *groupReader) resolve() []sync.Group {
	byDN := make(map[string]int32, len(r.groups))
	for i, g := range r.groups {
		byDN[g.key] = int32(i)
	}
	edges := make([][]int32, len(r.groups))
	for i, g := range r.groups {
		for _, key := range g.nested {
			if j, ok := byDN[key]; ok {
				edges[i] = append(edges[i], j)
			} else if r.debug {
				r.logger.Debug("member is outside the user and group searches; ignored", "group", g.Source, "member", key)
			}
		}
	}
	users := r.users.users
	seenUser := make([]int32, len(users)) // seenUser[u] == i+1: u already in group i
	seenGroup := make([]int32, len(r.groups))
	var stack []int32
	out := make([]sync.Group, len(r.groups))
	for i := range r.groups {
		mark := int32(i + 1)
		members := make([]string, 0, len(r.groups[i].users))
		stack = append(stack[:0], int32(i))
		seenGroup[i] = mark
		for len(stack) > 0 {
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, u := range r.groups[g].users {
				if seenUser[u] != mark {
					seenUser[u] = mark
					members = append(members, users[u].ExternalID)
				}
			}
			for _, h := range edges[g] {
				if seenGroup[h] != mark {
					seenGroup[h] = mark
					stack = append(stack, h)
				}
			}
		}
		out[i] = r.groups[i].Group
		out[i].Members = members
	}
	return out
}
