package bwemu

import (
	"net/http"
	"time"
)

// msgCannotUseGroups is the groups controller's refusal (the import's text
// differs).
const msgCannotUseGroups = "This organization cannot use groups."

// groupResponse is GroupResponseModel.
type groupResponse struct {
	Object      string             `json:"object"`
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	ExternalID  *string            `json:"externalId"`
	Collections []CollectionAccess `json:"collections"`
}

// groupRequest is GroupCreateUpdateRequestModel.
type groupRequest struct {
	Name        *string             `json:"name"`
	ExternalID  *string             `json:"externalId"`
	Collections []collectionRequest `json:"collections"`
}

// memberIDsRequest is UpdateMemberIdsRequestModel.
type memberIDsRequest struct {
	MemberIDs []guid `json:"memberIds"`
}

func (req *groupRequest) validate() *apiError {
	var v validator
	if v.requiredString("Name", "Name", req.Name) {
		v.maxLength("Name", "Name", *req.Name, 100)
	}
	if req.ExternalID != nil {
		v.maxLength("ExternalId", "ExternalId", *req.ExternalID, 300)
	}
	validateCollections(&v, req.Collections)
	return v.result()
}

func groupResponseOf(g *group, colls []CollectionAccess) groupResponse {
	return groupResponse{Object: "group", ID: g.id, Name: g.name, ExternalID: nullable(g.externalID), Collections: colls}
}

// withGroup resolves the {id} group, answering 404 with no body when the id
// is not in the organization.
func (s *Server) withGroup(w http.ResponseWriter, r *http.Request, fn func(st *state, g *group, now time.Time) (any, *apiError)) {
	id, err := pathID(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	s.respond(w, func(st *state, now time.Time) (any, *apiError) {
		g := st.groups[id]
		if g == nil {
			return nil, notFoundEmpty()
		}
		return fn(st, g, now)
	})
}

func (s *Server) listGroups(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	data := make([]groupResponse, 0, len(s.st.groupOrder))
	for _, g := range s.st.groupOrder {
		data = append(data, groupResponseOf(g, storedCollections(g.collections)))
	}
	s.mu.Unlock()
	s.writeList(w, data)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	s.withGroup(w, r, func(_ *state, g *group, _ time.Time) (any, *apiError) {
		return groupResponseOf(g, storedCollections(g.collections)), nil
	})
}

func (s *Server) getGroupMemberIDs(w http.ResponseWriter, r *http.Request) {
	s.withGroup(w, r, func(_ *state, g *group, _ time.Time) (any, *apiError) {
		return sortedMemberIDs(g), nil
	})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if err := req.validate(); err != nil {
		writeAPIError(w, err)
		return
	}
	s.respond(w, func(st *state, now time.Time) (any, *apiError) {
		if !st.org.useGroups {
			return nil, badRequest(msgCannotUseGroups)
		}
		colls, err := st.resolveCollections(req.Collections)
		if err != nil {
			return nil, err
		}
		g := &group{id: newGUID(), name: *req.Name, externalID: deref(req.ExternalID), collections: colls, revision: now}
		st.addGroup(g)
		return groupResponseOf(g, colls), nil
	})
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if err := req.validate(); err != nil {
		writeAPIError(w, err)
		return
	}
	s.withGroup(w, r, func(st *state, g *group, now time.Time) (any, *apiError) {
		if !st.org.useGroups {
			return nil, badRequest(msgCannotUseGroups)
		}
		colls, err := st.resolveCollections(req.Collections)
		if err != nil {
			return nil, err
		}
		g.name = *req.Name
		g.externalID = deref(req.ExternalID) // null clears it
		if colls != nil {                    // null leaves collection access unchanged
			g.collections = colls
		}
		g.revision = now
		return groupResponseOf(g, colls), nil
	})
}

func (s *Server) putGroupMemberIDs(w http.ResponseWriter, r *http.Request) {
	var req memberIDsRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	s.withGroup(w, r, func(st *state, g *group, now time.Time) (any, *apiError) {
		ms := make([]*member, 0, len(req.MemberIDs))
		for _, id := range req.MemberIDs {
			if m := st.members[string(id)]; m != nil { // ids outside the org are dropped
				ms = append(ms, m)
			}
		}
		st.setGroupMembers(g, ms, now)
		return nil, nil
	})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	s.withGroup(w, r, func(st *state, g *group, _ time.Time) (any, *apiError) {
		st.removeGroup(g)
		return nil, nil
	})
}
