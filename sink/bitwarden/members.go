package bitwarden

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// invite invites a new member as a User with the external id
// (POST /public/members). When the server answers that the email is already
// invited, which is what a retried or re-run invite meets, the existing
// member counts as the invite's result if it has the same external id.
func (s *Sink) invite(ctx context.Context, op sync.Op) error {
	body := memberCreate{Email: op.Email, Type: int(sync.TypeUser), ExternalID: op.ExternalID}
	var m memberResponse
	err := s.do(ctx, http.MethodPost, "/public/members", body, &m)
	if apiStatus(err, http.StatusBadRequest, "already been invited") {
		return s.adoptInvited(ctx, op, err)
	}
	if err != nil {
		return err
	}
	s.updateIndex(func(x *index) { x.addMember(m.ID, m.Email, op.ExternalID) })
	return nil
}

// adoptInvited looks up the member that holds op's email after an "already
// invited" answer (inviteErr).
func (s *Sink) adoptInvited(ctx context.Context, op sync.Op, inviteErr error) error {
	members, err := s.listMembers(ctx)
	if err != nil {
		return fmt.Errorf("%w; then looking the member up: %w", inviteErr, err)
	}
	for _, m := range members {
		if !strings.EqualFold(m.Email, op.Email) {
			continue
		}
		ext := m.ExternalID
		switch {
		case strings.EqualFold(ext, op.ExternalID):
			s.logger.Debug("member already invited", "email", op.Email, "member_id", m.ID)
			s.updateIndex(func(x *index) { x.addMember(m.ID, m.Email, ext) })
			return nil
		case ext == "":
			return fmt.Errorf("bitwarden: %s is already a member (id %s) without an external id; "+
				"it needs a link, not an invite", op.Email, m.ID)
		}
		return fmt.Errorf("bitwarden: %s is already a member (id %s) with external id %q, not %q",
			op.Email, m.ID, ext, op.ExternalID)
	}
	return fmt.Errorf("%w; yet no member has that email", inviteErr)
}

// link sets the external id of an existing member. PUT /public/members/{id}
// replaces the whole record, and omitted collections would take away all
// the member's collection access, so link reads the member first and sends
// back its role, collections (with every flag) and custom permissions
// unchanged; groups: null keeps its groups.
func (s *Sink) link(ctx context.Context, op sync.Op) error {
	if op.MemberID == "" || op.ExternalID == "" {
		return errors.New("bitwarden: link needs a member id and an external id")
	}
	path := "/public/members/" + op.MemberID
	var m memberResponse
	if err := s.do(ctx, http.MethodGet, path, nil, &m); err != nil {
		return err
	}
	if str(m.ExternalID) != op.ExternalID {
		upd := memberUpdate{Type: m.Type, ExternalID: &op.ExternalID, Collections: m.Collections}
		if upd.Collections == nil {
			upd.Collections = []collection{}
		}
		if sync.MemberType(m.Type) == sync.TypeCustom {
			upd.Permissions = m.Permissions
		}
		if err := s.do(ctx, http.MethodPut, path, upd, nil); err != nil {
			return err
		}
	}
	s.updateIndex(func(x *index) { x.addMember(m.ID, m.Email, op.ExternalID) })
	return nil
}

// revoke revokes a member (POST /public/members/{id}/revoke). "Already
// revoked." and a member already gone count as done. On a server without
// the endpoint it fails with ErrNoRevoke, or with legacy_revoke: remove
// removes the member instead.
func (s *Sink) revoke(ctx context.Context, op sync.Op) error {
	if s.isLegacy() {
		return s.legacyRevoke(ctx, op)
	}
	err := s.do(ctx, http.MethodPost, "/public/members/"+op.MemberID+"/revoke", nil, nil)
	switch {
	case err == nil:
		return nil
	case apiStatus(err, http.StatusBadRequest, "already revoked"):
		s.logger.Debug("member already revoked", "email", op.Email, "member_id", op.MemberID)
		return nil
	case !isNotFound(err):
		return err
	}
	legacy, gone, lerr := s.explain404(ctx, op.MemberID, err)
	switch {
	case lerr != nil:
		return lerr
	case gone:
		s.logger.Debug("member to revoke is already gone", "email", op.Email, "member_id", op.MemberID)
		return nil
	case legacy:
		return s.legacyRevoke(ctx, op)
	}
	return err
}

// restore restores a revoked member (POST /public/members/{id}/restore).
// "Already active." counts as done. On a server without the endpoint it
// fails with ErrNoRevoke.
func (s *Sink) restore(ctx context.Context, op sync.Op) error {
	if s.isLegacy() {
		return legacyRestoreError()
	}
	err := s.do(ctx, http.MethodPost, "/public/members/"+op.MemberID+"/restore", nil, nil)
	switch {
	case err == nil:
		return nil
	case apiStatus(err, http.StatusBadRequest, "already active"):
		s.logger.Debug("member already active", "email", op.Email, "member_id", op.MemberID)
		return nil
	case !isNotFound(err):
		return err
	}
	legacy, gone, lerr := s.explain404(ctx, op.MemberID, err)
	switch {
	case lerr != nil:
		return lerr
	case gone:
		return fmt.Errorf("%w (the member is no longer in the organization)", err)
	case legacy:
		return legacyRestoreError()
	}
	return err
}

// explain404 tells why a revoke or restore of member id got a 404: the
// member is gone, or the member is there and the server lacks the endpoint
// (it predates v2026.2.0), which the sink then remembers.
func (s *Sink) explain404(ctx context.Context, id string, err404 error) (legacy, gone bool, err error) {
	err = s.do(ctx, http.MethodGet, "/public/members/"+id, nil, nil)
	switch {
	case isNotFound(err):
		return false, true, nil
	case err != nil:
		return false, false, fmt.Errorf("%w; then looking the member up: %w", err404, err)
	}
	s.mu.Lock()
	s.noRevoke = true
	s.mu.Unlock()
	s.logger.Warn("the server has no revoke/restore endpoints; it predates Bitwarden server 2026.2.0",
		"legacy_revoke", s.cfg.LegacyRevoke)
	return true, false, nil
}

func (s *Sink) isLegacy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noRevoke
}

// legacyRevoke handles a revoke on a server without the endpoint.
func (s *Sink) legacyRevoke(ctx context.Context, op sync.Op) error {
	if s.cfg.LegacyRevoke != LegacyRevokeRemove {
		return fmt.Errorf("%w; upgrade the server, or set bitwarden.legacy_revoke: remove "+
			"to remove members instead of revoking them", ErrNoRevoke)
	}
	s.logger.Warn("removing the member instead of revoking it (legacy_revoke: remove)",
		"email", op.Email, "member_id", op.MemberID)
	return s.remove(ctx, op)
}

func legacyRestoreError() error {
	return fmt.Errorf("%w; restore the member by hand, or remove it so that the next run invites it again",
		ErrNoRevoke)
}

// remove removes a member from the organization (DELETE
// /public/members/{id}); a member already gone counts as done.
func (s *Sink) remove(ctx context.Context, op sync.Op) error {
	err := s.do(ctx, http.MethodDelete, "/public/members/"+op.MemberID, nil, nil)
	if isNotFound(err) {
		s.logger.Debug("member to remove is already gone", "email", op.Email, "member_id", op.MemberID)
		err = nil
	}
	if err != nil {
		return err
	}
	s.updateIndex(func(x *index) { x.removeMember(op.MemberID) })
	return nil
}
