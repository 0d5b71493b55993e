package jumpcloud

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// readUsers reads /api/systemusers until a read is consistent (see
// readStable).
func (s *Source) readUsers(ctx context.Context) ([]apiUser, error) {
	return readStable(ctx, s.logger, s.readUsersPass, func(u apiUser) string { return u.ID }, "list", "users")
}

// readUsersPass reads the user list once, sorted by _id, advancing skip by
// the length of each page. It stops on an empty page or once skip reaches the
// latest totalCount, and drops records already seen in this read. An empty
// page short of its own totalCount fails the read. The read is settled when
// totalCount never moved and nothing came twice.
func (s *Source) readUsersPass(ctx context.Context) (listRead[apiUser], error) {
	var (
		r            listRead[apiUser]
		first, total int
		changed      bool
		nulls        int
	)
	seen := make(map[string]bool)
	q := url.Values{
		"limit":  {strconv.Itoa(s.cfg.PageSize)},
		"sort":   {"_id"},
		"fields": {strings.Join(userFields, " ")},
	}
	for skip, requests := 0, 0; ; requests++ {
		q.Set("skip", strconv.Itoa(skip))
		body, what, err := s.fetch(ctx, usersPath, q)
		if err != nil {
			return r, err
		}
		page, err := decodeUsersPage(body, what, s.cfg.PageSize)
		if err != nil {
			return r, err
		}
		if requests == 0 {
			first = page.total
		} else if page.total != total {
			changed = true
		}
		total = page.total
		if page.n == 0 {
			if skip < page.total {
				// Deletions lower totalCount in the same answer: an empty
				// page short of it means records the server did not serve.
				return r, &PageError{What: what, Index: -1,
					Err: fmt.Errorf("empty page, though totalCount is %d", page.total)}
			}
			break
		}
		r.pages++
		fresh := 0
		for _, u := range page.users {
			if seen[u.ID] {
				r.dups++
				continue
			}
			seen[u.ID] = true
			r.items = append(r.items, u)
			fresh++
		}
		nulls += page.n - len(page.users)
		if fresh == 0 && len(page.users) > 0 && !changed {
			// Nothing moved, yet the page repeats records: the server
			// ignores skip, and going on would miss the rest.
			return r, &PageError{What: what, Index: -1,
				Err: fmt.Errorf("page repeats only users already read, though totalCount stayed %d", page.total)}
		}
		skip += page.n
		if skip >= page.total {
			break
		}
	}
	r.settled = !changed && r.dups == 0
	s.logger.Debug("user list read", "pages", r.pages, "users", len(r.items), "total_count_first", first,
		"total_count_last", total, "duplicates", r.dups, "nulls", nulls)
	return r, nil
}

// mapping turns JumpCloud users into dirbridge users.
type mapping struct {
	staged         string
	lockedDisabled bool
}

// user maps u the way JumpCloud's own Bitwarden integration does: a user is
// active unless suspended or password-expired. It reports false for a staged
// user left out by staged: skip.
func (m mapping) user(u apiUser) (sync.User, bool) {
	staged := strings.EqualFold(u.State, "STAGED")
	if staged && m.staged == StagedSkip {
		return sync.User{}, false
	}
	suspended := u.Suspended || strings.EqualFold(u.State, "SUSPENDED")
	disabled := suspended || u.PasswordExpired || (m.lockedDisabled && u.AccountLocked)
	if staged && m.staged == StagedDisabled {
		disabled = true
	}
	src := "systemusers/" + u.ID
	if u.Username != "" {
		src += " (" + u.Username + ")"
	}
	return sync.User{
		ExternalID: u.ID,
		Email:      u.Email,
		Name:       userName(u),
		Disabled:   disabled,
		Source:     src,
	}, true
}

// userName returns displayname, else "firstname lastname", else username.
func userName(u apiUser) string {
	if n := strings.TrimSpace(u.DisplayName); n != "" {
		return n
	}
	first, last := strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName)
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return strings.TrimSpace(u.Username)
}
