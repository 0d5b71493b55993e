package bwemu

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// vwError is Vaultwarden's error JSON (src/error.rs).
type vwError struct {
	Message          string              `json:"message"`
	Error            string              `json:"error"`
	ErrorDescription string              `json:"error_description"`
	ValidationErrors map[string][]string `json:"validationErrors"`
	ErrorModel       vwErrorModel        `json:"errorModel"`
	ExceptionMessage *string             `json:"exceptionMessage"`
	ExceptionStack   *string             `json:"exceptionStackTrace"`
	InnerException   *string             `json:"innerExceptionMessage"`
	Object           string              `json:"object"`
}

type vwErrorModel struct {
	Message string `json:"message"`
	Object  string `json:"object"`
}

func writeVWError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, vwError{
		Message:          msg,
		ValidationErrors: map[string][]string{"": {msg}},
		ErrorModel:       vwErrorModel{Message: msg, Object: "error"},
		Object:           "error",
	})
}

// vaultwardenToken is Vaultwarden's client_credentials login
// (src/api/identity.rs): every field is required, form keys are
// case-insensitive with or without underscores, and errors are 400 with
// Vaultwarden's error JSON.
func (s *Server) vaultwardenToken(w http.ResponseWriter, form url.Values) {
	fields := map[string]string{}
	for k, v := range form {
		key := strings.ToLower(strings.ReplaceAll(k, "_", ""))
		if len(v) > 0 {
			fields[key] = v[0]
		}
	}
	if fields["granttype"] != "client_credentials" {
		writeVWError(w, "Invalid type")
		return
	}
	for _, f := range []string{"client_id", "client_secret", "scope", "device_identifier", "device_name", "device_type"} {
		if strings.TrimSpace(fields[strings.ReplaceAll(f, "_", "")]) == "" {
			writeVWError(w, f+" cannot be blank")
			return
		}
	}
	clientID := fields["clientid"]
	switch fields["scope"] {
	case "api.organization":
	case "api":
		if strings.HasPrefix(clientID, "user.") {
			writeVWError(w, "Invalid client_id")
		} else {
			writeVWError(w, "Malformed client_id")
		}
		return
	default:
		writeVWError(w, "Scope not supported")
		return
	}
	orgID, ok := strings.CutPrefix(clientID, "organization.")
	if !ok {
		writeVWError(w, "Malformed client_id")
		return
	}
	if orgID != s.OrgID() {
		writeVWError(w, "Invalid client_id")
		return
	}
	if subtle.ConstantTimeCompare([]byte(fields["clientsecret"]), []byte(s.opt.ClientSecret)) != 1 {
		writeVWError(w, "Incorrect client_secret")
		return
	}
	s.issueToken(w)
}

// vwNotFound is Vaultwarden's API 404 catcher.
func vwNotFound(w http.ResponseWriter) {
	writeRaw(w, http.StatusNotFound, "application/json",
		[]byte(`{"error":{"code":404,"reason":"Not Found","description":"The requested resource could not be found."}}`))
}

// vwImportData is Vaultwarden's OrgImportData: every field required, with
// exact camelCase names and JSON types (serde).
type vwImportData struct {
	groups    []vwImportGroup
	members   []vwImportMember
	overwrite bool
}

type vwImportGroup struct {
	name, externalID string
	memberIDs        []string
}

type vwImportMember struct {
	email, externalID string
	deleted           bool
}

// parseVWImport decodes the body strictly; ok is false where serde fails.
func parseVWImport(body []byte) (vwImportData, bool) {
	var raw struct {
		Groups            *[]map[string]json.RawMessage `json:"groups"`
		Members           *[]map[string]json.RawMessage `json:"members"`
		OverwriteExisting *bool                         `json:"overwriteExisting"`
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top["groups"] == nil || top["members"] == nil || top["overwriteExisting"] == nil {
		return vwImportData{}, false
	}
	if json.Unmarshal(top["groups"], &raw.Groups) != nil || json.Unmarshal(top["members"], &raw.Members) != nil ||
		json.Unmarshal(top["overwriteExisting"], &raw.OverwriteExisting) != nil ||
		raw.Groups == nil || raw.Members == nil || raw.OverwriteExisting == nil {
		return vwImportData{}, false
	}
	data := vwImportData{overwrite: *raw.OverwriteExisting}
	for _, g := range *raw.Groups {
		var ig vwImportGroup
		if !strictField(g, "name", &ig.name) || !strictField(g, "externalId", &ig.externalID) ||
			!strictField(g, "memberExternalIds", &ig.memberIDs) || ig.memberIDs == nil {
			return vwImportData{}, false
		}
		data.groups = append(data.groups, ig)
	}
	for _, m := range *raw.Members {
		var im vwImportMember
		if !strictField(m, "email", &im.email) || !strictField(m, "externalId", &im.externalID) ||
			!strictField(m, "deleted", &im.deleted) {
			return vwImportData{}, false
		}
		data.members = append(data.members, im)
	}
	return data, true
}

// strictField decodes the required key of obj into dst; null fails.
func strictField(obj map[string]json.RawMessage, key string, dst any) bool {
	raw, ok := obj[key]
	if !ok || string(raw) == "null" {
		return false
	}
	return json.Unmarshal(raw, dst) == nil
}

// vaultwardenImport is Vaultwarden's ldap_import (src/api/core/public.rs):
// members matched by email, deleted entries revoked, listed revoked members
// restored, groups only with VaultwardenGroups (names never updated,
// membership deleted and re-added), then overwrite removals. Entry by entry,
// no seat checks, no size cap.
func (s *Server) vaultwardenImport(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	data, ok := parseVWImport(body)
	if !ok {
		writeRaw(w, http.StatusUnprocessableEntity, "application/json",
			[]byte(`{"error":{"code":422,"reason":"Unprocessable Entity","description":"The request was well-formed but was unable to be followed due to semantic errors."}}`))
		return
	}
	s.respond(w, func(st *state, now time.Time) (any, *apiError) {
		for _, im := range data.members {
			s.vwImportMember(st, im, now)
		}
		if s.opt.VaultwardenGroups {
			st.vwImportGroups(data.groups, now)
		}
		if data.overwrite {
			st.vwOverwrite(data.members)
		}
		return nil, nil
	})
}

func (s *Server) vwImportMember(st *state, im vwImportMember, now time.Time) {
	email := strings.ToLower(im.email)
	var m *member
	if list := st.byEmail[email]; len(list) > 0 {
		m = list[0]
	}
	switch {
	case m != nil && im.deleted:
		lastOwner := m.typ == TypeOwner && m.status == StatusConfirmed && st.confOwners <= 1
		st.update(m, now, func(m *member) {
			if !lastOwner && m.status != StatusRevoked {
				m.prevStatus, m.status = m.status, StatusRevoked
			}
			m.externalID = im.externalID
		})
	case m != nil:
		st.update(m, now, func(m *member) {
			if m.status == StatusRevoked {
				m.status = m.prevStatus
			}
			m.externalID = im.externalID
		})
	case !im.deleted:
		st.addMember(&member{
			id: newGUID(), email: email, externalID: im.externalID,
			status: StatusInvited, typ: TypeUser, invitations: 1, revision: now,
		})
		s.stats.Invitations++
	}
}

func (st *state) vwImportGroups(groups []vwImportGroup, now time.Time) {
	for _, ig := range groups {
		var g *group
		for _, x := range st.groupOrder {
			if x.externalID == ig.externalID {
				g = x
				break
			}
		}
		if g == nil {
			g = &group{id: newGUID(), name: ig.name, externalID: ig.externalID, revision: now}
			st.addGroup(g)
		}
		var ms []*member
		for _, ext := range ig.memberIDs {
			if list := st.byExt[ext]; len(list) > 0 {
				ms = append(ms, list[0])
			}
		}
		st.setGroupMembers(g, ms, now)
	}
}

func (st *state) vwOverwrite(members []vwImportMember) {
	listed := make(map[string]bool, len(members))
	for _, im := range members {
		listed[im.externalID] = true
	}
	var doomed []*member
	st.eachMember(func(m *member) {
		if m.externalID != "" && !listed[m.externalID] {
			doomed = append(doomed, m)
		}
	})
	for _, m := range doomed {
		if m.typ == TypeOwner && m.status == StatusConfirmed && st.confOwners <= 1 {
			continue // cannot delete the last owner
		}
		st.removeMember(m)
	}
}
