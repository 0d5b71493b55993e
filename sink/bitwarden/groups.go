package bitwarden

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// createGroup creates a group with its external id (POST /public/groups).
// A group the index already knows by that external id counts as done. The
// POST is not idempotent, so before any retry of it the sink checks whether
// the failed attempt created the group after all.
func (s *Sink) createGroup(ctx context.Context, op sync.Op) error {
	ext := op.ExternalID
	if ext == "" {
		return errors.New("bitwarden: create_group needs an external id")
	}
	var existing string
	if err := s.withIndex(ctx, func(x *index) { existing = x.groupByExt[ext] }); err != nil {
		return err
	}
	if existing != "" {
		s.logger.Debug("group already exists", "group", op.Name, "group_id", existing)
		return nil
	}
	var landed string
	lc := &landedCheck{method: http.MethodPost, url: s.apiURL + "/public/groups", check: func(ctx context.Context) error {
		id, err := s.findGroup(ctx, ext)
		if err != nil || id == "" {
			return nil // not created (or unknown): retry the POST
		}
		landed = id
		return errLanded
	}}
	var g groupResponse
	err := s.do(context.WithValue(ctx, landedCheckKey{}, lc), http.MethodPost, "/public/groups",
		groupWrite{Name: op.Name, ExternalID: &ext}, &g)
	if errors.Is(err, errLanded) {
		s.logger.Debug("group created by an earlier attempt", "group", op.Name, "group_id", landed)
		g.ID, err = landed, nil
	}
	if err != nil {
		return err
	}
	s.updateIndex(func(x *index) { x.groupByExt[ext] = g.ID })
	return nil
}

// findGroup returns the id of the group with the external id, or "".
func (s *Sink) findGroup(ctx context.Context, externalID string) (string, error) {
	groups, err := s.listGroups(ctx)
	if err != nil {
		return "", err
	}
	for _, g := range groups {
		if str(g.ExternalID) == externalID {
			return g.ID, nil
		}
	}
	return "", nil
}

// updateGroup renames a group (PUT /public/groups/{id}). The PUT replaces
// the record: the external id is sent again (null would clear it), and null
// collections keep the group's collection access.
func (s *Sink) updateGroup(ctx context.Context, op sync.Op) error {
	id, err := s.groupID(ctx, op)
	if err != nil {
		return err
	}
	path := "/public/groups/" + id
	ext := op.ExternalID
	if ext == "" {
		var g groupResponse
		if err := s.do(ctx, http.MethodGet, path, nil, &g); err != nil {
			return err
		}
		ext = str(g.ExternalID)
	}
	body := groupWrite{Name: op.Name}
	if ext != "" {
		body.ExternalID = &ext
	}
	return s.do(ctx, http.MethodPut, path, body, nil)
}

// setGroupMembers replaces a group's members (PUT
// /public/groups/{id}/member-ids). op.Members holds user external ids; they
// are resolved through the index, which holds the members invited or linked
// earlier in the run. Ids that resolve to nothing (a failed invite) are
// left out.
func (s *Sink) setGroupMembers(ctx context.Context, op sync.Op) error {
	id, err := s.groupID(ctx, op)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(op.Members))
	var missing []string
	err = s.withIndex(ctx, func(x *index) {
		for _, ext := range op.Members {
			if mid, ok := x.memberByExt[strings.ToLower(ext)]; ok {
				ids = append(ids, mid)
			} else {
				missing = append(missing, ext)
			}
		}
	})
	if err != nil {
		return err
	}
	for _, ext := range missing {
		s.logger.Debug("group member is not in the organization; left out", "group", op.Name, "external_id", ext)
	}
	// Members a guard keeps in the group (their removal is held back).
	ids = append(ids, op.KeepIDs...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return s.do(ctx, http.MethodPut, "/public/groups/"+id+"/member-ids", groupMembers{MemberIDs: ids}, nil)
}

// deleteGroup deletes a group (DELETE /public/groups/{id}); a group already
// gone counts as done.
func (s *Sink) deleteGroup(ctx context.Context, op sync.Op) error {
	id, err := s.groupID(ctx, op)
	if errors.Is(err, errNoGroup) {
		s.logger.Debug("group to delete is already gone", "group", op.Name, "external_id", op.ExternalID)
		return nil
	}
	if err != nil {
		return err
	}
	err = s.do(ctx, http.MethodDelete, "/public/groups/"+id, nil, nil)
	if isNotFound(err) {
		s.logger.Debug("group to delete is already gone", "group", op.Name, "group_id", id)
		err = nil
	}
	if err != nil {
		return err
	}
	s.updateIndex(func(x *index) {
		for k, v := range x.groupByExt {
			if v == id {
				delete(x.groupByExt, k)
			}
		}
	})
	return nil
}

// errNoGroup means an operation names a group the organization lacks.
var errNoGroup = errors.New("bitwarden: no such group")

// groupID returns op.GroupID, or else the id of the group with op's
// external id (one created earlier in the run).
func (s *Sink) groupID(ctx context.Context, op sync.Op) (string, error) {
	if op.GroupID != "" {
		return op.GroupID, nil
	}
	if op.ExternalID == "" {
		return "", errors.New("bitwarden: the operation names no group id or external id")
	}
	var id string
	if err := s.withIndex(ctx, func(x *index) { id = x.groupByExt[op.ExternalID] }); err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("%w with external id %q (was it created?)", errNoGroup, op.ExternalID)
	}
	return id, nil
}
