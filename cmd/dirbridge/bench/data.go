package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// fileDirectory is a generated directory for the file source: users
// u00000..., groups g000..., every user in perUser distinct groups chosen
// with a fixed seed.
type fileDirectory struct {
	users   int
	members [][]int // members[g] holds user numbers
}

func newFileDirectory(users, groups, perUser int) *fileDirectory {
	d := &fileDirectory{users: users, members: make([][]int, groups)}
	rng := rand.New(rand.NewPCG(42, 42))
	for u := range users {
		var picked []int
		for len(picked) < perUser && len(picked) < groups {
			if g := rng.IntN(groups); !slices.Contains(picked, g) {
				picked = append(picked, g)
				d.members[g] = append(d.members[g], u)
			}
		}
	}
	return d
}

// write writes the directory as the file source's YAML.
func (d *fileDirectory) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("users:\n")
	for u := range d.users {
		fmt.Fprintf(w, "  - {id: u%06d, email: user%06d@example.com, name: User %d}\n", u, u, u)
	}
	w.WriteString("groups:\n")
	for g, ms := range d.members {
		fmt.Fprintf(w, "  - {id: g%04d, name: Group %d, members: [", g, g)
		for i, u := range ms {
			if i > 0 {
				w.WriteString(", ")
			}
			fmt.Fprintf(w, "u%06d", u)
		}
		w.WriteString("]}\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// check compares the organization with the directory: every user is a
// member with its external id and email, every group exists with its name
// and exactly its members. It returns the first few differences.
func (d *fileDirectory) check(org bwemu.Org) []string {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	byExt := map[string]bwemu.Member{}
	extOf := map[string]string{}
	for _, m := range org.Members {
		byExt[m.ExternalID] = m
		extOf[m.ID] = m.ExternalID
	}
	for u := range d.users {
		m, ok := byExt[fmt.Sprintf("u%06d", u)]
		if !ok || m.Email != fmt.Sprintf("user%06d@example.com", u) {
			add("user u%06d: member %+v", u, m)
		}
	}
	groups := map[string]bwemu.Group{}
	for _, g := range org.Groups {
		groups[g.ExternalID] = g
	}
	for g, ms := range d.members {
		og, ok := groups[fmt.Sprintf("g%04d", g)]
		if !ok || og.Name != fmt.Sprintf("Group %d", g) {
			add("group g%04d: missing or misnamed (%q)", g, og.Name)
			continue
		}
		var want, got []string
		for _, u := range ms {
			want = append(want, fmt.Sprintf("u%06d", u))
		}
		for _, id := range og.MemberIDs {
			got = append(got, extOf[id])
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			add("group g%04d: %d members, want %d", g, len(got), len(want))
		}
	}
	if len(org.Groups) != len(d.members) {
		add("%d groups, want %d", len(org.Groups), len(d.members))
	}
	return problems
}

// churn is what the churn scenario changes in the LDAP directory.
type churn struct {
	mails, disabled, moves int
	// movedGroups is the number of distinct groups a move touched.
	movedGroups int
}

// applyChurn changes n users of the LDAP benchmark's directory (users
// uid=user%06d, groups cn=group%04d): 40% get a new mail, 30% are disabled
// (employeeType: disabled, which the churn configuration's disabled_filter
// selects) and 30% move from one of their groups to another. The users are
// every (users/n)th.
func applyChurn(d *directory, users, groups, n int) (churn, error) {
	conn, err := ldap.DialURL(d.URL)
	if err != nil {
		return churn{}, err
	}
	defer conn.Close()
	if err := conn.Bind(d.AdminDN, d.AdminPW); err != nil {
		return churn{}, fmt.Errorf("bind as %s: %w", d.AdminDN, err)
	}
	var c churn
	touched := map[string]bool{}
	step := users / n
	for i := range n {
		u := i * step
		dn := fmt.Sprintf("uid=user%06d,ou=people,%s", u, d.Suffix)
		mod := ldap.NewModifyRequest(dn, nil)
		switch {
		case i < n*4/10:
			mod.Replace("mail", []string{fmt.Sprintf("renamed%06d@example.com", u)})
			c.mails++
		case i < n*7/10:
			mod.Add("employeeType", []string{"disabled"})
			c.disabled++
		default:
			from, to, err := moveTargets(conn, d, dn, groups, u)
			if err != nil {
				return c, err
			}
			if err := moveMember(conn, dn, from, to); err != nil {
				return c, err
			}
			touched[from], touched[to] = true, true
			c.moves++
			continue
		}
		if err := conn.Modify(mod); err != nil {
			return c, fmt.Errorf("modify %s: %w", dn, err)
		}
	}
	c.movedGroups = len(touched)
	return c, nil
}

// moveTargets returns one group the user is in and one it is not in
// (found by member, as slapadd leaves memberOf unset).
func moveTargets(conn *ldap.Conn, d *directory, dn string, groups, u int) (from, to string, err error) {
	res, err := conn.Search(ldap.NewSearchRequest("ou=groups,"+d.Suffix, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(member="+ldap.EscapeFilter(dn)+")", []string{"1.1"}, nil))
	if err != nil {
		return "", "", fmt.Errorf("read the groups of %s: %w", dn, err)
	}
	var in []string
	for _, e := range res.Entries {
		in = append(in, e.DN)
	}
	if len(in) == 0 {
		return "", "", fmt.Errorf("%s is in no group", dn)
	}
	from = in[0]
	for k := 0; ; k++ {
		to = fmt.Sprintf("cn=group%04d,ou=groups,%s", (u/7+k*7919)%groups, d.Suffix)
		if !slices.ContainsFunc(in, func(g string) bool { return strings.EqualFold(g, to) }) {
			return from, to, nil
		}
	}
}

func moveMember(conn *ldap.Conn, dn, from, to string) error {
	del := ldap.NewModifyRequest(from, nil)
	del.Delete("member", []string{dn})
	if err := conn.Modify(del); err != nil {
		return fmt.Errorf("remove %s from %s: %w", dn, from, err)
	}
	add := ldap.NewModifyRequest(to, nil)
	add.Add("member", []string{dn})
	if err := conn.Modify(add); err != nil {
		return fmt.Errorf("add %s to %s: %w", dn, to, err)
	}
	return nil
}
