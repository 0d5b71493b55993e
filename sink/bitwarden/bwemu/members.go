package bwemu

import (
	"net/http"
	"strings"
	"time"
)

// Messages of the members endpoints.
const (
	msgAlreadyInvited = "This user has already been invited."
	msgCustomOnly     = "Only users with the Custom role may use custom permissions."
	msgUserInvalid    = "User invalid."
	msgAlreadyRevoked = "Already revoked."
	msgAlreadyActive  = "Already active."
	msgManageExcl     = "The Manage property is mutually exclusive and cannot be true while the ReadOnly or HidePasswords properties are also true."
)

// memberResponse is MemberResponseModel.
type memberResponse struct {
	Object                string             `json:"object"`
	ID                    string             `json:"id"`
	UserID                *string            `json:"userId"`
	Name                  *string            `json:"name"`
	Email                 string             `json:"email"`
	TwoFactorEnabled      bool               `json:"twoFactorEnabled"`
	Status                int                `json:"status"`
	Collections           []CollectionAccess `json:"collections"`
	ResetPasswordEnrolled bool               `json:"resetPasswordEnrolled"`
	SSOExternalID         *string            `json:"ssoExternalId"`
	Type                  int                `json:"type"`
	ExternalID            *string            `json:"externalId"`
	Permissions           *Permissions       `json:"permissions"`
}

// collectionRequest is AssociationWithPermissionsRequestModel.
type collectionRequest struct {
	ID            *guid `json:"id"`
	ReadOnly      *bool `json:"readOnly"`
	HidePasswords *bool `json:"hidePasswords"`
	Manage        *bool `json:"manage"`
}

// memberRequest is MemberCreateRequestModel (with Email) and
// MemberUpdateRequestModel.
type memberRequest struct {
	Email       *string             `json:"email"`
	Type        *enumInt            `json:"type"`
	ExternalID  *string             `json:"externalId"`
	Permissions *Permissions        `json:"permissions"`
	Collections []collectionRequest `json:"collections"`
	Groups      []guid              `json:"groups"`
}

// groupIDsRequest is UpdateGroupIdsRequestModel.
type groupIDsRequest struct {
	GroupIDs []guid `json:"groupIds"`
}

func (req *memberRequest) validate(create bool) *apiError {
	var v validator
	if create && v.requiredString("Email", "Email", req.Email) {
		v.strictEmail("Email", "Email", *req.Email)
		v.maxLength("Email", "Email", *req.Email, 256)
	}
	if v.requiredValue("Type", "Type", req.Type != nil) {
		v.memberType("Type", "Type", int(*req.Type))
	}
	if req.ExternalID != nil {
		v.maxLength("ExternalId", "ExternalId", *req.ExternalID, 300)
	}
	validateCollections(&v, req.Collections)
	return v.result()
}

func validateCollections(v *validator, cs []collectionRequest) {
	for i, c := range cs {
		key := "Collections[" + itoa(i) + "]."
		v.requiredValue(key+"Id", "Id", c.ID != nil)
		v.requiredValue(key+"ReadOnly", "ReadOnly", c.ReadOnly != nil)
	}
}

func memberResponseOf(m *member, colls []CollectionAccess) memberResponse {
	resp := memberResponse{
		Object:                "member",
		ID:                    m.id,
		UserID:                nullable(m.userID),
		Name:                  nullable(m.name),
		Email:                 m.email,
		TwoFactorEnabled:      m.twoFactor,
		Status:                m.status,
		Collections:           colls,
		ResetPasswordEnrolled: m.resetPassword,
		SSOExternalID:         nullable(m.ssoExternalID),
		Type:                  m.typ,
		ExternalID:            nullable(m.externalID),
	}
	if m.typ == TypeCustom {
		p := Permissions{}
		if m.permissions != nil {
			p = *m.permissions
		}
		resp.Permissions = &p
	}
	return resp
}

// storedCollections is what GET returns: the member's grants, [] when none.
func storedCollections(c []CollectionAccess) []CollectionAccess {
	if c == nil {
		return []CollectionAccess{}
	}
	return cloneAccess(c)
}

// respond runs fn under the server lock and writes its answer: the error,
// an empty 200 when v is nil, or v as JSON.
func (s *Server) respond(w http.ResponseWriter, fn func(st *state, now time.Time) (any, *apiError)) {
	now := s.now()
	s.mu.Lock()
	v, err := fn(s.st, now)
	s.mu.Unlock()
	switch {
	case err != nil:
		writeAPIError(w, err)
	case v == nil:
		writeEmpty(w, http.StatusOK)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// pathID reads the {id} route value as a GUID; a malformed one fails model
// binding like ASP.NET's Guid parameter.
func pathID(r *http.Request) (string, *apiError) {
	raw := r.PathValue("id")
	id, ok := parseGUID(raw)
	if !ok {
		return "", modelState(map[string][]string{"id": {"The value '" + raw + "' is not valid."}})
	}
	return id, nil
}

// withMember resolves the {id} member, answering 404 with no body when the
// id is not in the organization.
func (s *Server) withMember(w http.ResponseWriter, r *http.Request, fn func(st *state, m *member, now time.Time) (any, *apiError)) {
	id, err := pathID(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	s.respond(w, func(st *state, now time.Time) (any, *apiError) {
		m := st.members[id]
		if m == nil {
			return nil, notFoundEmpty()
		}
		return fn(st, m, now)
	})
}

func (s *Server) listMembers(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	data := make([]memberResponse, 0, len(s.st.members))
	s.st.eachMember(func(m *member) {
		data = append(data, memberResponseOf(m, storedCollections(m.collections)))
	})
	s.mu.Unlock()
	s.writeList(w, data)
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.withMember(w, r, func(_ *state, m *member, _ time.Time) (any, *apiError) {
		return memberResponseOf(m, storedCollections(m.collections)), nil
	})
}

func (s *Server) getMemberGroupIDs(w http.ResponseWriter, r *http.Request) {
	s.withMember(w, r, func(_ *state, m *member, _ time.Time) (any, *apiError) {
		return sortedGroupIDs(m), nil
	})
}

func (s *Server) createMember(w http.ResponseWriter, r *http.Request) {
	var req memberRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if err := req.validate(true); err != nil {
		writeAPIError(w, err)
		return
	}
	s.respond(w, func(st *state, now time.Time) (any, *apiError) {
		typ := int(*req.Type)
		if req.Permissions != nil && typ != TypeCustom {
			return nil, badRequest(msgCustomOnly)
		}
		colls, err := st.resolveCollections(req.Collections)
		if err != nil {
			return nil, err
		}
		groups, err := st.resolveGroups(req.Groups, true)
		if err != nil {
			return nil, err
		}
		email := strings.ToLower(*req.Email)
		if st.knownEmail(email) {
			return nil, badRequest(msgAlreadyInvited)
		}
		add, err := st.seatsToAdd(1)
		if err != nil {
			return nil, err
		}
		if typ != TypeOwner && st.confOwners == 0 {
			return nil, badRequest(msgNeedOwner)
		}
		st.autoscale(add)
		m := &member{
			id: newGUID(), email: email, status: StatusInvited, typ: typ,
			externalID: deref(req.ExternalID), collections: colls, invitations: 1, revision: now,
		}
		if typ == TypeCustom {
			m.permissions = req.Permissions
		}
		st.addMember(m)
		if groups != nil {
			st.setMemberGroups(m, groups, now)
		}
		s.stats.Invitations++
		return memberResponseOf(m, colls), nil
	})
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request) {
	var req memberRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if err := req.validate(false); err != nil {
		writeAPIError(w, err)
		return
	}
	s.withMember(w, r, func(st *state, m *member, now time.Time) (any, *apiError) {
		typ := int(*req.Type)
		if req.Permissions != nil && typ != TypeCustom {
			return nil, badRequest(msgCustomOnly)
		}
		colls, err := st.resolveCollections(req.Collections)
		if err != nil {
			return nil, err
		}
		groups, err := st.resolveGroups(req.Groups, true)
		if err != nil {
			return nil, err
		}
		if m.typ == TypeOwner && typ != TypeOwner && st.confirmedOwnersExcept(m) == 0 {
			return nil, badRequest(msgNeedOwner)
		}
		st.update(m, now, func(m *member) {
			m.typ = typ
			m.externalID = deref(req.ExternalID) // PUT is a full replace: null clears
			m.collections = colls                // null removes all collection access
			if req.Permissions != nil {
				m.permissions = req.Permissions // null keeps the stored permissions
			}
		})
		if req.Groups != nil { // null keeps the groups, [] clears them
			st.setMemberGroups(m, groups, now)
		}
		return memberResponseOf(m, colls), nil
	})
}

func (s *Server) putMemberGroupIDs(w http.ResponseWriter, r *http.Request) {
	var req groupIDsRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	s.withMember(w, r, func(st *state, m *member, now time.Time) (any, *apiError) {
		groups, _ := st.resolveGroups(req.GroupIDs, false)
		st.setMemberGroups(m, groups, now)
		return nil, nil
	})
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request) {
	s.withMember(w, r, func(st *state, m *member, _ time.Time) (any, *apiError) {
		if m.typ == TypeOwner && st.confirmedOwnersExcept(m) == 0 {
			return nil, badRequest(msgNeedOwner)
		}
		st.removeMember(m)
		return nil, nil
	})
}

func (s *Server) reinviteMember(w http.ResponseWriter, r *http.Request) {
	s.withMember(w, r, func(_ *state, m *member, _ time.Time) (any, *apiError) {
		if m.status != StatusInvited {
			return nil, badRequest(msgUserInvalid)
		}
		m.invitations++
		s.stats.Invitations++
		return nil, nil
	})
}

func (s *Server) revokeMember(w http.ResponseWriter, r *http.Request) {
	s.withMember(w, r, func(st *state, m *member, now time.Time) (any, *apiError) {
		if m.status == StatusRevoked {
			return nil, badRequest(msgAlreadyRevoked)
		}
		// RevokeOrganizationUserCommand checks the owners for any member.
		if st.confirmedOwnersExcept(m) == 0 {
			return nil, badRequest(msgNeedOwner)
		}
		st.update(m, now, func(m *member) {
			m.prevStatus = m.status
			m.status = StatusRevoked
		})
		return nil, nil
	})
}

func (s *Server) restoreMember(w http.ResponseWriter, r *http.Request) {
	s.withMember(w, r, func(st *state, m *member, now time.Time) (any, *apiError) {
		if m.status != StatusRevoked {
			return nil, badRequest(msgAlreadyActive)
		}
		if occupiesSeat(m.prevStatus) {
			add, err := st.seatsToAdd(1)
			if err != nil {
				return nil, err
			}
			st.autoscale(add)
		}
		st.update(m, now, func(m *member) { m.status = m.prevStatus })
		return nil, nil
	})
}

// resolveCollections checks collection grants against the organization
// (404 Resource not found. for a foreign id) and the Manage exclusivity.
// A nil request gives nil.
func (st *state) resolveCollections(cs []collectionRequest) ([]CollectionAccess, *apiError) {
	if cs == nil {
		return nil, nil
	}
	out := make([]CollectionAccess, 0, len(cs))
	for _, c := range cs {
		id := string(*c.ID)
		if !st.collections[id] {
			return nil, resourceNotFound()
		}
		a := CollectionAccess{ID: id, ReadOnly: *c.ReadOnly, HidePasswords: derefBool(c.HidePasswords), Manage: derefBool(c.Manage)}
		if a.Manage && (a.ReadOnly || a.HidePasswords) {
			return nil, badRequest(msgManageExcl)
		}
		out = append(out, a)
	}
	return out, nil
}

// resolveGroups maps group ids to groups. With strict, an unknown id is 404
// Resource not found.; without, it is silently dropped (the stored
// procedures join on the organization). A nil request gives nil.
func (st *state) resolveGroups(ids []guid, strict bool) ([]*group, *apiError) {
	if ids == nil {
		return nil, nil
	}
	out := make([]*group, 0, len(ids))
	seen := make(map[*group]bool, len(ids))
	for _, id := range ids {
		g := st.groups[string(id)]
		if g == nil {
			if strict {
				return nil, resourceNotFound()
			}
			continue
		}
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefBool(p *bool) bool { return p != nil && *p }
