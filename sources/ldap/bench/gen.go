package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

// writeLDIF writes the benchmark directory for slapadd: ou=people and
// ou=groups under the suffix, users inetOrgPerson users, and groups
// groupOfNames groups; every user is in perUser distinct groups chosen at
// random with a fixed seed, so every run loads the same data.
func writeLDIF(w io.Writer, users, groups, perUser int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, "dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
	fmt.Fprintf(bw, "dn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n\n")
	rng := rand.New(rand.NewPCG(seed, seed))
	members := make([][]int32, groups)
	pick := make([]int, 0, perUser)
	for u := range users {
		fmt.Fprintf(bw, "dn: uid=user%06d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: user%06d\n"+
			"cn: User %06d\nsn: %06d\ndisplayName: User %06d\nmail: user%06d@example.com\n\n", u, u, u, u, u, u)
		pick = pick[:0]
		for len(pick) < perUser && len(pick) < groups {
			g := rng.IntN(groups)
			dup := false
			for _, p := range pick {
				dup = dup || p == g
			}
			if !dup {
				pick = append(pick, g)
				members[g] = append(members[g], int32(u))
			}
		}
	}
	for g, ms := range members {
		fmt.Fprintf(bw, "dn: cn=group%04d,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: group%04d\n", g, g)
		if len(ms) == 0 { // groupOfNames needs a member
			ms = []int32{0}
		}
		for _, u := range ms {
			fmt.Fprintf(bw, "member: uid=user%06d,ou=people,dc=example,dc=com\n", u)
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}
