package jumpcloud

import (
	"errors"
	"strings"
	"testing"
)

// The decoders get a small limit, so that pages longer than it are easy to
// reach. Seeds live in testdata/fuzz/<target>/; run, for instance:
//
//	go test ./sources/jumpcloud -run '^$' -fuzz FuzzDecodeUsersPage -fuzztime 1m
const fuzzLimit = 5

const fuzzWhat = "GET /fuzz?limit=5&skip=0"

// checkDecodeError fails t unless err names the page and wraps
// ErrBadResponse and a PageError.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var pe *PageError
	if !errors.Is(err, ErrBadResponse) || !errors.As(err, &pe) {
		t.Fatalf("error %v does not wrap ErrBadResponse and a PageError", err)
	}
	if !strings.HasPrefix(err.Error(), fuzzWhat+": ") {
		t.Fatalf("error %q does not name the page", err)
	}
}

func FuzzDecodeUsersPage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeUsersPage(body, fuzzWhat, fuzzLimit)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if p.total < 0 || p.n > fuzzLimit || len(p.users) > p.n {
			t.Fatalf("page total %d, n %d, %d users: out of bounds", p.total, p.n, len(p.users))
		}
		for i, u := range p.users {
			if u.ID == "" {
				t.Fatalf("user %d has no id", i)
			}
			mapping{staged: StagedActive}.user(u)
		}
	})
}

func FuzzDecodeGroupsPage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeGroupsPage(body, fuzzWhat, fuzzLimit)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if p.n > fuzzLimit || len(p.groups) > p.n {
			t.Fatalf("page n %d, %d groups: out of bounds", p.n, len(p.groups))
		}
		for i, g := range p.groups {
			if g.ID == "" {
				t.Fatalf("group %d has no id", i)
			}
		}
	})
}

func FuzzDecodeMembersPage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeMembersPage(body, fuzzWhat, fuzzLimit)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if p.n > fuzzLimit || len(p.users)+p.others > p.n {
			t.Fatalf("page n %d, %d users, %d others: out of bounds", p.n, len(p.users), p.others)
		}
		for i, id := range p.users {
			if id == "" {
				t.Fatalf("member %d has no id", i)
			}
		}
	})
}
