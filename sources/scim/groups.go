package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	stdsync "sync"

	"github.com/dirbridge/dirbridge/sync"
)

// readGroups lists the groups, completes the members of those listed
// without them, fetches nested groups that were not listed, and flattens
// every group's members to user external ids with userExt.
func (s *Source) readGroups(ctx context.Context, userExt map[string]string) ([]sync.Group, error) {
	query := url.Values{}
	if s.cfg.FilterGroups != "" {
		query.Set("filter", s.cfg.FilterGroups)
	}
	if s.cfg.GroupMembers == MembersPerGroup {
		query.Set("excludedAttributes", "members")
	}
	var listed []*wireGroup
	byID := make(map[string]*wireGroup)
	extIDs := make(map[string]string)
	_, err := s.list(ctx, "Groups", query, func(raw json.RawMessage, where string) (string, error) {
		w, err := decodeGroup(raw)
		if err == nil {
			err = checkGroup(w, s.cfg.IDAttribute)
		}
		if err != nil {
			return "", &RecordError{Kind: "group", Where: where, ID: rawID(raw), Err: err}
		}
		ext, _ := externalID(w.ID, w.ExternalID, s.cfg.IDAttribute)
		if other, dup := extIDs[ext]; dup {
			return "", &RecordError{Kind: "group", Where: where, ID: string(w.ID),
				Err: fmt.Errorf("has the externalId %q of group %q", ext, other)}
		}
		extIDs[ext] = string(w.ID)
		listed = append(listed, &w)
		byID[string(w.ID)] = &w
		return string(w.ID), nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.completeMembers(ctx, listed, byID); err != nil {
		return nil, err
	}
	groups := make([]sync.Group, 0, len(listed))
	for _, w := range listed {
		ext, _ := externalID(w.ID, w.ExternalID, s.cfg.IDAttribute)
		groups = append(groups, sync.Group{
			ExternalID: ext,
			Name:       w.DisplayName,
			Members:    flatten(string(w.ID), byID, userExt),
			Source:     "Groups/" + string(w.ID),
		})
	}
	return groups, nil
}

// completeMembers fetches by id the listed groups whose members are not
// known (all of them with per_group, those listed without a members
// attribute with auto), then, round after round, the nested groups that
// were not listed. Fetched groups join byID. The unlisted groups are bounded
// by max_pages, against a server that invents nested groups without end.
func (s *Source) completeMembers(ctx context.Context, listed []*wireGroup, byID map[string]*wireGroup) error {
	var need []string
	for _, w := range listed {
		if s.cfg.GroupMembers == MembersPerGroup || (s.cfg.GroupMembers == MembersAuto && w.Members == nil) {
			need = append(need, string(w.ID))
		}
	}
	if err := s.fetchInto(ctx, need, byID); err != nil {
		return err
	}
	unlisted := 0
	for need = unknownNested(byID); len(need) > 0; need = unknownNested(byID) {
		unlisted += len(need)
		if unlisted > s.cfg.MaxPages {
			return fmt.Errorf("%w: more than %d nested groups outside the group list (max_pages)", ErrTooManyPages, s.cfg.MaxPages)
		}
		if err := s.fetchInto(ctx, need, byID); err != nil {
			return err
		}
	}
	return nil
}

// fetchInto fetches the groups ids and records their members in byID.
func (s *Source) fetchInto(ctx context.Context, ids []string, byID map[string]*wireGroup) error {
	if len(ids) == 0 {
		return nil
	}
	got, err := s.fetchGroups(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if w, ok := byID[id]; ok {
			w.Members = got[id].Members
		} else {
			byID[id] = got[id]
		}
	}
	s.logger.Debug("groups fetched by id", "groups", len(ids))
	return nil
}

// unknownNested returns the ids of groups named as members (by type or
// $ref) that are not in byID, each once, in a stable order.
func unknownNested(byID map[string]*wireGroup) []string {
	var ids []string
	seen := make(map[string]bool)
	for _, w := range byID {
		if w.Members == nil {
			continue
		}
		for _, m := range *w.Members {
			id := string(m.Value)
			if id != "" && isGroupMember(m, nil, nil) && byID[id] == nil && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// fetchGroups gets each group by id, with at most cfg.Concurrency requests
// in flight. The first failure stops the others and is returned.
func (s *Source) fetchGroups(ctx context.Context, ids []string) (map[string]*wireGroup, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu  stdsync.Mutex
		wg  stdsync.WaitGroup
		out = make(map[string]*wireGroup, len(ids))
	)
	jobs := make(chan string)
	for range min(s.cfg.Concurrency, len(ids)) {
		wg.Go(func() {
			for id := range jobs {
				g, err := s.fetchGroup(ctx, id)
				if err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				out[id] = g
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case jobs <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchGroup gets one group by id. In auto and per_group modes a group that
// still has no members attribute is an error: its membership is unknown.
func (s *Source) fetchGroup(ctx context.Context, id string) (*wireGroup, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := "/Groups/" + url.PathEscape(id)
	body, err := s.client.get(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	w, err := decodeGroup(body)
	if err == nil && w.Members == nil && s.cfg.GroupMembers != MembersInline {
		err = fmt.Errorf("%w even when read by id, so its members cannot be known; "+
			"set group_members: inline to read such groups as empty", ErrNoMembers)
	}
	if err != nil {
		return nil, &RecordError{Kind: "group", Where: "GET " + path, ID: id, Err: err}
	}
	if w.Members == nil {
		w.Members = &[]wireMember{}
	}
	return &w, nil
}
