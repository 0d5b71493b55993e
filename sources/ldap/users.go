package ldap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// ErrNoID is wrapped by an EntryError for an entry that lacks its id
// attribute: the source cannot identify it, so the read fails rather than let
// the person vanish from the organization.
var ErrNoID = errors.New("no value for the id attribute")

// ErrDuplicateID is wrapped by an EntryError for an entry whose external id
// another entry already has.
var ErrDuplicateID = errors.New("external id already used by another entry")

// EntryError is a directory entry the source cannot use.
type EntryError struct {
	DN  string
	Err error
}

// Error names the entry and the problem.
func (e *EntryError) Error() string { return fmt.Sprintf("ldap: entry %s: %v", e.DN, e.Err) }

// Unwrap returns the problem.
func (e *EntryError) Unwrap() error { return e.Err }

// idRule says where an entry's external id comes from.
type idRule struct {
	attr   string // the id attribute; "" with dn or compat
	dn     bool   // the canonical DN
	compat bool   // objectGUID if present, else the DN as the server sent it
	guid   bool   // attr is objectGUID: 16 raw bytes
}

func newIDRule(attr string, compat bool) idRule {
	switch {
	case compat:
		return idRule{attr: "objectGUID", compat: true, guid: true}
	case strings.EqualFold(attr, "dn"):
		return idRule{dn: true}
	}
	return idRule{attr: attr, guid: strings.EqualFold(attr, "objectGUID")}
}

// id returns the external id of an entry, given its DN as sent, its
// canonical DN and the id attribute's first value (nil when absent).
func (r idRule) id(dn, key string, v []byte) (string, error) {
	switch {
	case r.dn:
		return key, nil
	case v == nil && r.compat:
		return dn, nil
	case v == nil:
		return "", fmt.Errorf("%w %s", ErrNoID, r.attr)
	case r.guid:
		return guidString(v)
	}
	return string(v), nil
}

// userReader turns user entries into sync.Users, and indexes them by
// canonical DN (and by uid, for memberUid groups) for the group read.
type userReader struct {
	cfg      UserSearch
	idRule   idRule
	ad       bool                // read userAccountControl
	disabled map[string]struct{} // canonical DNs matched by disabled_filter
	byUID    map[string]int32    // lower-cased uid -> index; nil unless memberUid

	users []sync.User
	byDN  map[string]int32
	ids   map[string]int32
	bad   []error // entries that cannot be used; reported together
	buf   []byte
}

func newUserReader(cfg UserSearch, compat, ad, uids bool) *userReader {
	r := &userReader{
		cfg: cfg, idRule: newIDRule(cfg.IDAttribute, compat), ad: ad,
		byDN: make(map[string]int32), ids: make(map[string]int32),
	}
	if uids {
		r.byUID = make(map[string]int32)
	}
	return r
}

// attributes returns the attributes the user search asks for.
func (r *userReader) attributes() []string {
	var attrs []string
	add := func(a string) {
		for _, have := range attrs {
			if a == "" || strings.EqualFold(a, have) {
				return
			}
		}
		if a != "" {
			attrs = append(attrs, a)
		}
	}
	add(r.idRule.attr)
	add(r.cfg.EmailAttribute)
	add(r.cfg.EmailPrefixAttribute)
	add(r.cfg.NameAttribute)
	add("cn")
	if r.byUID != nil {
		add(r.cfg.UIDAttribute)
	}
	if r.ad {
		add("userAccountControl")
	}
	return attrs
}

// add reads one user entry.
func (r *userReader) add(e *entry) error {
	dn := e.DN()
	var err error
	if r.buf, err = appendCanonical(r.buf[:0], dn); err != nil {
		return &EntryError{DN: dn, Err: fmt.Errorf("the server sent a malformed DN: %w", err)}
	}
	key := dn
	if string(r.buf) != dn { // already canonical on most servers: no copy
		key = string(r.buf)
	}
	var id, mail, prefix, name, cn, uid, uac []byte
	c := &r.cfg
	for _, a := range e.attrs {
		v := e.first(a)
		switch {
		case v == nil:
			continue
		case r.idRule.attr != "" && equalFold(a.name, r.idRule.attr):
			id = v
		}
		// One attribute may fill several roles (uid as the id and the uid).
		if equalFold(a.name, c.EmailAttribute) {
			mail = v
		}
		if c.EmailPrefixAttribute != "" && equalFold(a.name, c.EmailPrefixAttribute) {
			prefix = v
		}
		if equalFold(a.name, c.NameAttribute) {
			name = v
		}
		if equalFold(a.name, "cn") {
			cn = v
		}
		if r.byUID != nil && equalFold(a.name, c.UIDAttribute) {
			uid = v
		}
		if r.ad && equalFold(a.name, "userAccountControl") {
			uac = v
		}
	}
	u := sync.User{Source: dn}
	if u.ExternalID, err = r.idRule.id(dn, key, id); err != nil {
		r.bad = append(r.bad, &EntryError{DN: dn, Err: err})
		return nil
	}
	switch {
	case len(mail) > 0:
		u.Email = string(mail)
	case len(prefix) > 0:
		u.Email = string(prefix) + c.EmailSuffix
	}
	u.Name = string(name)
	if u.Name == "" {
		u.Name = string(cn)
	}
	if _, ok := r.disabled[key]; ok {
		u.Disabled = true
	}
	if uac != nil {
		flags, err := strconv.ParseInt(string(uac), 10, 64)
		if err != nil {
			r.bad = append(r.bad, &EntryError{DN: dn, Err: fmt.Errorf("userAccountControl %q is not a number", uac)})
			return nil
		}
		u.Disabled = u.Disabled || flags&2 != 0
	}
	return r.index(u, key, string(uid))
}

func (r *userReader) index(u sync.User, key, uid string) error {
	i := int32(len(r.users))
	if _, dup := r.byDN[key]; dup {
		return nil // the same entry twice (a server repeating itself): keep the first
	}
	if j, dup := r.ids[u.ExternalID]; dup {
		r.bad = append(r.bad, &EntryError{DN: u.Source, Err: fmt.Errorf("%w (%s): %s", ErrDuplicateID, u.ExternalID, r.users[j].Source)})
		return nil
	}
	r.ids[u.ExternalID] = i
	r.byDN[key] = i
	if uid != "" {
		r.byUID[strings.ToLower(uid)] = i
	}
	r.users = append(r.users, u)
	return nil
}

// err returns the entries that could not be used, as one error naming the
// first few of them, or nil.
func (r *userReader) err() error {
	return badEntries("users", r.bad)
}

func badEntries(what string, bad []error) error {
	if len(bad) == 0 {
		return nil
	}
	const show = 5
	errs := bad
	if len(errs) > show {
		errs = append(errs[:show:show], fmt.Errorf("... and %d more", len(bad)-show))
	}
	return fmt.Errorf("ldap: %d %s cannot be read: %w", len(bad), what, errors.Join(errs...))
}
