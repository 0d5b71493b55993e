package jumpcloud

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/dirbridge/dirbridge/sync"
)

// maxStalePages is how many pages in a row may repeat only records already
// read before a v2 list (which has no count to stop at) is declared stuck.
const maxStalePages = 2

// errStuck is the cause of a v2 list whose pages stopped bringing new records.
var errStuck = errors.New("pages keep repeating records already read; the server seems to ignore skip")

// readGroups reads /api/v2/usergroups until a read is consistent (see
// readStable).
func (s *Source) readGroups(ctx context.Context) ([]apiGroup, error) {
	return readStable(ctx, s.logger, s.readGroupsPass, func(g apiGroup) string { return g.ID }, "list", "groups")
}

// readGroupsPass reads the group list once. The v2 list has no count and may
// serve short pages before its end, so only an empty page ends it.
func (s *Source) readGroupsPass(ctx context.Context) (listRead[apiGroup], error) {
	var r listRead[apiGroup]
	seen := make(map[string]bool)
	q := url.Values{"limit": {strconv.Itoa(s.cfg.PageSize)}}
	stale := 0
	for skip := 0; ; {
		q.Set("skip", strconv.Itoa(skip))
		body, what, err := s.fetch(ctx, groupsPath, q)
		if err != nil {
			return r, err
		}
		page, err := decodeGroupsPage(body, what, s.cfg.PageSize)
		if err != nil {
			return r, err
		}
		if page.n == 0 {
			r.settled = r.pages <= 1 && r.dups == 0
			return r, nil
		}
		r.pages++
		fresh := 0
		for _, g := range page.groups {
			if seen[g.ID] {
				r.dups++
				continue
			}
			seen[g.ID] = true
			r.items = append(r.items, g)
			fresh++
		}
		if stale = nextStale(stale, fresh, len(page.groups)); stale >= maxStalePages {
			return r, &PageError{What: what, Index: -1, Err: errStuck}
		}
		skip += page.n
	}
}

// readAllMembers reads every group's members, Config.Concurrency groups at a
// time. members[i] belongs to groups[i].
func (s *Source) readAllMembers(ctx context.Context, groups []apiGroup) ([][]string, error) {
	members := make([][]string, len(groups))
	err := runAll(ctx, len(groups), s.cfg.Concurrency, func(ctx context.Context, i int) error {
		m, err := s.readMembers(ctx, groups[i].ID)
		if err != nil {
			return fmt.Errorf("read members of group %s (%s): %w", groups[i].ID, groups[i].Name, err)
		}
		members[i] = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

// readMembers reads the user ids of one group's direct members (JumpCloud
// has no user groups inside user groups) until a read is consistent (see
// readStable).
func (s *Source) readMembers(ctx context.Context, groupID string) ([]string, error) {
	read := func(ctx context.Context) (listRead[string], error) { return s.readMembersPass(ctx, groupID) }
	return readStable(ctx, s.logger, read, func(id string) string { return id }, "list", "members", "group_id", groupID)
}

// readMembersPass reads a group's member list once. Only an empty page ends
// it.
func (s *Source) readMembersPass(ctx context.Context, groupID string) (listRead[string], error) {
	var r listRead[string]
	seen := make(map[string]bool)
	path := membersPath(groupID)
	q := url.Values{"limit": {strconv.Itoa(s.cfg.PageSize)}}
	stale, others := 0, 0
	for skip := 0; ; {
		q.Set("skip", strconv.Itoa(skip))
		body, what, err := s.fetch(ctx, path, q)
		if err != nil {
			return r, err
		}
		page, err := decodeMembersPage(body, what, s.cfg.PageSize)
		if err != nil {
			return r, err
		}
		if page.n == 0 {
			if others > 0 {
				s.logger.Debug("group has members that are not users", "group_id", groupID, "count", others)
			}
			r.settled = r.pages <= 1 && r.dups == 0
			return r, nil
		}
		r.pages++
		others += page.others
		fresh := 0
		for _, id := range page.users {
			if seen[id] {
				r.dups++
				continue
			}
			seen[id] = true
			r.items = append(r.items, id)
			fresh++
		}
		if stale = nextStale(stale, fresh, len(page.users)); stale >= maxStalePages {
			return r, &PageError{What: what, Index: -1, Err: errStuck}
		}
		skip += page.n
	}
}

// buildStats counts what build did, for the summary log line.
type buildStats struct {
	disabled, stagedSkipped, memberships, membersDropped int
}

// build maps the records read into a snapshot. Members that name no user of
// the snapshot (staged users left out, users created after the user list was
// read) are dropped.
func (s *Source) build(users []apiUser, groups []apiGroup, members [][]string) (sync.Snapshot, buildStats) {
	var st buildStats
	m := mapping{staged: s.cfg.Staged, lockedDisabled: s.cfg.LockedDisabled}
	snap := sync.Snapshot{Users: make([]sync.User, 0, len(users)), Groups: make([]sync.Group, 0, len(groups))}
	known := make(map[string]bool, len(users))
	for _, u := range users {
		du, ok := m.user(u)
		if !ok {
			st.stagedSkipped++
			s.logger.Debug("skipping staged user", "user_id", u.ID, "username", u.Username)
			continue
		}
		if du.Disabled {
			st.disabled++
		}
		known[du.ExternalID] = true
		snap.Users = append(snap.Users, du)
	}
	for i, g := range groups {
		kept := make([]string, 0, len(members[i]))
		for _, id := range members[i] {
			if known[id] {
				kept = append(kept, id)
			}
		}
		if dropped := len(members[i]) - len(kept); dropped > 0 {
			st.membersDropped += dropped
			s.logger.Debug("dropping group members that are not users of the snapshot", "group_id", g.ID, "group", g.Name, "count", dropped)
		}
		st.memberships += len(kept)
		snap.Groups = append(snap.Groups, sync.Group{
			ExternalID: g.ID,
			Name:       g.Name,
			Members:    kept,
			Source:     "usergroups/" + g.ID,
		})
	}
	return snap, st
}
