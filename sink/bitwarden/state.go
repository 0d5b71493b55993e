package bitwarden

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"

	"github.com/dirbridge/dirbridge/sync"
)

// State reads the organization: every member, every group, and the member
// ids of every group that has an external id (read Concurrency at a time).
// It also refreshes the index Apply resolves external ids with. In import
// mode it returns ErrCannotRead: the Syncer plans from its ledger instead.
func (s *Sink) State(ctx context.Context) (sync.OrgState, error) {
	if s.Stateless() {
		return sync.OrgState{}, ErrCannotRead
	}
	members, err := s.listMembers(ctx)
	if err != nil {
		return sync.OrgState{}, err
	}
	groups, err := s.listGroups(ctx)
	if err != nil {
		return sync.OrgState{}, err
	}
	state := sync.OrgState{Members: members, Groups: toGroups(groups)}
	if err := s.readGroupMembers(ctx, state.Groups, members); err != nil {
		return sync.OrgState{}, err
	}
	// The index is built when an operation first needs it: a run with
	// nothing to do never pays for it.
	s.mu.Lock()
	s.idx, s.read = nil, &state
	s.mu.Unlock()
	s.logger.Debug("read organization", "members", len(state.Members), "groups", len(state.Groups))
	return state, nil
}

// toMember converts the API's member to the model's.
func toMember(m *memberResponse) sync.Member {
	return sync.Member{
		ID:         m.ID,
		Email:      m.Email,
		Name:       str(m.Name),
		ExternalID: str(m.ExternalID),
		Status:     sync.MemberStatus(m.Status),
		Type:       sync.MemberType(m.Type),
	}
}

// toGroups converts the API's groups to the model's, without members.
func toGroups(groups []groupResponse) []sync.OrgGroup {
	out := make([]sync.OrgGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, sync.OrgGroup{ID: g.ID, Name: g.Name, ExternalID: str(g.ExternalID)})
	}
	return out
}

// listMembers returns every member (GET /public/members), decoded one at
// a time from the answer: 100,000 members make some 30 MB of JSON, which
// is never held whole.
func (s *Sink) listMembers(ctx context.Context) ([]sync.Member, error) {
	var list memberList
	if err := s.list(ctx, "/public/members", &list); err != nil {
		return nil, err
	}
	return list.members, nil
}

// listGroups returns every group (GET /public/groups).
func (s *Sink) listGroups(ctx context.Context) ([]groupResponse, error) {
	var list listResponse[groupResponse]
	if err := s.list(ctx, "/public/groups", &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// list reads a list envelope and refuses one that says more pages follow,
// which no server version does for members or groups.
func (s *Sink) list(ctx context.Context, path string, out interface{ continuation() string }) error {
	err := s.do(ctx, http.MethodGet, path, nil, out)
	if isNotFound(err) {
		return fmt.Errorf("%w (the server has no %s: Vaultwarden implements only the import endpoint "+
			"of the Public API; set bitwarden.mode: import for it)", err, path)
	}
	if err != nil {
		return err
	}
	if t := out.continuation(); t != "" {
		return fmt.Errorf("bitwarden: GET %s: the list is paged (continuationToken %q), which this client does not support", path, t)
	}
	return nil
}

func (l *listResponse[T]) continuation() string { return str(l.ContinuationToken) }

// readGroupMembers fills MemberIDs for every group with an external id,
// with at most Concurrency requests in flight. The first error cancels the
// rest. Ids of the given members are stored as the members' own strings,
// not as copies: 300,000 memberships hold 14 MB less.
func (s *Sink) readGroupMembers(ctx context.Context, groups []sync.OrgGroup, members []sync.Member) error {
	canon := make(map[string]string, len(members))
	for _, m := range members {
		canon[m.ID] = m.ID
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.cfg.Concurrency)
	var (
		wg    stdsync.WaitGroup
		once  stdsync.Once
		first error
	)
loop:
	for i := range groups {
		g := &groups[i]
		if g.ExternalID == "" {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ids, err := s.groupMemberIDs(ctx, g.ID)
			for i, id := range ids {
				if c, ok := canon[id]; ok {
					ids[i] = c
				}
			}
			if err != nil {
				once.Do(func() {
					first = fmt.Errorf("read members of group %q: %w", g.Name, err)
					cancel(first)
				})
				return
			}
			g.MemberIDs = ids
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bitwarden: read group members: %w", context.Cause(ctx))
	}
	return nil
}

// groupMemberIDs returns a group's member ids, sorted
// (GET /public/groups/{id}/member-ids, a bare array).
func (s *Sink) groupMemberIDs(ctx context.Context, groupID string) ([]string, error) {
	ids := []string{}
	if err := s.do(ctx, http.MethodGet, "/public/groups/"+groupID+"/member-ids", nil, &ids); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// index finds members and groups by the keys operations carry.
type index struct {
	memberByExt   map[string]string // lower-cased external id -> member id
	memberByEmail map[string]string // lower-cased email -> member id
	groupByExt    map[string]string // external id -> group id
	// importBlock and importGroupBlock say why the import endpoint would
	// answer 500 on this organization to every request, or to every request
	// with groups; "" when it would not. ImportOrganizationUsersAndGroups-
	// Command builds dictionaries that throw on a duplicate key: of the
	// members' external ids (on every request), of the emails of members
	// without one (when members are imported), of the groups' external ids
	// (when groups are). External ids are compared here without case, so
	// a rare false alarm only makes ApplyBulk take the slower path.
	importBlock, importGroupBlock string
}

func newIndex(members []sync.Member, groups []sync.OrgGroup) *index {
	x := &index{
		memberByExt:   make(map[string]string, len(members)),
		memberByEmail: make(map[string]string, len(members)),
		groupByExt:    make(map[string]string, len(groups)),
	}
	var unlinked map[string]bool
	for _, m := range members {
		switch {
		case m.ExternalID == "":
			if unlinked == nil {
				unlinked = map[string]bool{}
			}
			if unlinked[m.Email] && x.importBlock == "" {
				x.importBlock = fmt.Sprintf("two members without an external id have the email %s", m.Email)
			}
			unlinked[m.Email] = true
		case x.importBlock == "":
			if _, dup := x.memberByExt[strings.ToLower(m.ExternalID)]; dup {
				x.importBlock = fmt.Sprintf("two members have the external id %q (one is %s)", m.ExternalID, m.Email)
			}
		}
		x.addMember(m.ID, m.Email, m.ExternalID)
	}
	for _, g := range groups {
		if g.ExternalID == "" {
			continue
		}
		if _, dup := x.groupByExt[g.ExternalID]; dup && x.importGroupBlock == "" {
			x.importGroupBlock = fmt.Sprintf("two groups have the external id %q (one is %q)", g.ExternalID, g.Name)
		}
		x.groupByExt[g.ExternalID] = g.ID
	}
	return x
}

func (x *index) addMember(id, email, externalID string) {
	if externalID != "" {
		x.memberByExt[strings.ToLower(externalID)] = id
	}
	if email != "" {
		x.memberByEmail[strings.ToLower(email)] = id
	}
}

func (x *index) removeMember(id string) {
	for k, v := range x.memberByExt {
		if v == id {
			delete(x.memberByExt, k)
		}
	}
	for k, v := range x.memberByEmail {
		if v == id {
			delete(x.memberByEmail, k)
		}
	}
}

// loadIndex returns the index, reading the organization (without group
// members) when State has not run yet, so that Apply never resolves
// against an empty index.
func (s *Sink) loadIndex(ctx context.Context) (*index, error) {
	s.mu.Lock()
	if s.idx == nil && s.read != nil {
		s.idx, s.read = newIndex(s.read.Members, s.read.Groups), nil
	}
	x := s.idx
	s.mu.Unlock()
	if x != nil {
		return x, nil
	}
	members, err := s.listMembers(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := s.listGroups(ctx)
	if err != nil {
		return nil, err
	}
	x = newIndex(members, toGroups(groups))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx == nil {
		s.idx = x
	}
	return s.idx, nil
}
