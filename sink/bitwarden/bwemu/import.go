package bwemu

import (
	"net/http"
	"strings"
	"time"
)

// Import refusals (section 3.3).
const (
	msgTooMuchData     = "You cannot import this much data at once."
	msgNoDirectory     = "Organization cannot use directory syncing."
	msgImportNoGroups  = "Organization cannot use groups."
	msgMasterPassGuard = "Sync failed. To proceed, disable the 'Remove and re-add users during next sync' setting and try again."
	importCap          = 2000
)

// importRequest is OrganizationImportRequestModel.
type importRequest struct {
	Groups                       []importGroup  `json:"groups"`
	Members                      []importMember `json:"members"`
	OverwriteExisting            *bool          `json:"overwriteExisting"`
	LargeImport                  bool           `json:"largeImport"`
	InviteUsersAfterProvisioning *bool          `json:"inviteUsersAfterProvisioning"`
}

type importGroup struct {
	Name              *string      `json:"name"`
	ExternalID        *permissive  `json:"externalId"`
	MemberExternalIDs []permissive `json:"memberExternalIds"`
}

type importMember struct {
	Email      *string     `json:"email"`
	ExternalID *permissive `json:"externalId"`
	Deleted    bool        `json:"deleted"`
}

func (req *importRequest) validate() *apiError {
	var v validator
	v.requiredValue("OverwriteExisting", "OverwriteExisting", req.OverwriteExisting != nil)
	for i, g := range req.Groups {
		key := "Groups[" + itoa(i) + "]."
		if v.requiredString(key+"Name", "Name", g.Name) {
			v.maxLength(key+"Name", "Name", *g.Name, 100)
		}
		if v.requiredString(key+"ExternalId", "ExternalId", (*string)(g.ExternalID)) {
			v.maxLength(key+"ExternalId", "ExternalId", string(*g.ExternalID), 300)
		}
	}
	for i, m := range req.Members {
		key := "Members[" + itoa(i) + "]."
		switch {
		case m.Email != nil:
			before := len(v.errs[key+"Email"])
			v.laxEmail(key+"Email", "Email", *m.Email)
			v.maxLength(key+"Email", "Email", *m.Email, 256)
			if len(v.errs[key+"Email"]) == before && !m.Deleted && isBlank(*m.Email) {
				v.add(key+"Email", "Email is required for enabled members.")
			}
		case !m.Deleted:
			v.add(key+"Email", "Email is required for enabled members.")
		}
		if v.requiredString(key+"ExternalId", "ExternalId", (*string)(m.ExternalID)) {
			v.maxLength(key+"ExternalId", "ExternalId", string(*m.ExternalID), 300)
		}
	}
	return v.result()
}

// handleImport serves POST /public/organization/import, in Bitwarden's or
// Vaultwarden's flavour.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	if s.opt.Vaultwarden {
		s.vaultwardenImport(w, r)
		return
	}
	var req importRequest
	if err := readModel(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if err := req.validate(); err != nil {
		writeAPIError(w, err)
		return
	}
	s.respond(w, func(st *state, now time.Time) (any, *apiError) {
		return nil, s.importBitwarden(st, &req, now)
	})
}

// importBitwarden is ImportOrganizationUsersAndGroupsCommand.ImportAsync:
// six steps, each committed as it goes, so a failure in a later step leaves
// the earlier ones done.
func (s *Server) importBitwarden(st *state, req *importRequest, now time.Time) *apiError {
	if req.Groups == nil || req.Members == nil {
		return unhandled() // Count()/Select() on a null array
	}
	for _, g := range req.Groups {
		if g.MemberExternalIDs == nil {
			return unhandled() // new HashSet(null)
		}
	}
	var live []importMember
	newSet := map[string]bool{}
	for _, m := range req.Members {
		if !m.Deleted {
			m.Email = ptr(strings.ToLower(*m.Email))
			live = append(live, m)
			newSet[string(*m.ExternalID)] = true
		}
	}
	if !st.org.selfHosted && !req.LargeImport && (len(req.Groups) > importCap || len(live) > importCap) {
		return badRequest(msgTooMuchData)
	}
	if !st.org.useDirectory {
		return badRequest(msgNoDirectory)
	}

	// Step 1: the existing external members, by externalId.
	var external []*member
	st.eachMember(func(m *member) {
		if !isBlank(m.externalID) {
			external = append(external, m)
		}
	})
	extDict := make(map[string]*member, len(external))
	for _, m := range external {
		if extDict[m.externalID] != nil {
			return unhandled() // ToDictionary on a duplicate key
		}
		extDict[m.externalID] = m
	}

	if err := st.importRemovals(req, newSet, external, extDict); err != nil {
		return err
	}
	if len(live) > 0 {
		if err := st.importLink(live, extDict, now); err != nil {
			return err
		}
		invite := req.InviteUsersAfterProvisioning == nil || *req.InviteUsersAfterProvisioning || !s.opt.StagedFlag
		if err := s.importNew(st, live, extDict, invite, now); err != nil {
			return err
		}
	}
	if len(req.Groups) == 0 {
		return nil
	}
	// The groups feature is checked only now, after the members' steps.
	if !st.org.useGroups {
		return badRequest(msgImportNoGroups)
	}
	return st.importGroups(req.Groups, extDict, now)
}

// importRemovals is steps 2 and 3. Deleted entries remove non-owner
// members, unless the same externalId is also imported as not deleted. Then
// overwrite removes every non-owner external member that is not imported,
// after the master-password guard; its candidates come from step 1's
// snapshot, so members removed in step 2 are seen again.
func (st *state) importRemovals(req *importRequest, newSet map[string]bool, external []*member, extDict map[string]*member) *apiError {
	for _, m := range req.Members {
		ext := string(*m.ExternalID)
		if e := extDict[ext]; m.Deleted && !newSet[ext] && e != nil && !e.removed && e.typ != TypeOwner {
			st.removeMember(e)
		}
	}
	if !*req.OverwriteExisting {
		return nil
	}
	var doomed []*member
	for _, m := range external {
		if m.typ != TypeOwner && !newSet[m.externalID] && extDict[m.externalID] != nil {
			doomed = append(doomed, m)
		}
	}
	for _, m := range doomed {
		if !m.hasMasterPassword() {
			return badRequest(msgMasterPassGuard)
		}
	}
	for _, m := range doomed {
		if !m.removed {
			st.removeMember(m)
		}
		delete(extDict, m.externalID)
	}
	return nil
}

// importLink is step 4: members without an externalId whose email equals an
// imported one (exactly; imports are lowercased) take its externalId.
func (st *state) importLink(live []importMember, extDict map[string]*member, now time.Time) *apiError {
	byEmail := map[string]*member{}
	var dup bool
	st.eachMember(func(m *member) {
		if isBlank(m.externalID) {
			if byEmail[m.email] != nil {
				dup = true
			}
			byEmail[m.email] = m
		}
	})
	if dup {
		return unhandled()
	}
	imported := make(map[string]importMember, len(live))
	for _, m := range live {
		if _, ok := imported[*m.Email]; ok {
			return unhandled() // duplicate email among non-deleted members
		}
		imported[*m.Email] = m
	}
	type link struct {
		m   *member
		ext string
	}
	var links []link
	for _, im := range live {
		m := byEmail[*im.Email]
		if m == nil {
			continue
		}
		ext := string(*im.ExternalID)
		if extDict[ext] != nil {
			return unhandled() // Dictionary.Add on a known externalId
		}
		extDict[ext] = m
		links = append(links, link{m, ext})
	}
	for _, l := range links {
		st.update(l.m, now, func(m *member) { m.externalID = l.ext })
	}
	return nil
}

// importNew is step 5: every imported externalId still unknown becomes an
// Invited member (or Staged), unless its email is already in the
// organization, which is silently skipped.
func (s *Server) importNew(st *state, live []importMember, extDict map[string]*member, invite bool, now time.Time) *apiError {
	var news []importMember
	for _, im := range live {
		ext := string(*im.ExternalID)
		if extDict[ext] != nil || isBlank(*im.Email) || st.knownEmail(*im.Email) {
			continue
		}
		news = append(news, im)
	}
	if len(news) == 0 {
		return nil
	}
	status := StatusStaged
	if invite {
		status = StatusInvited
		add, err := st.seatsToAdd(len(news))
		if err != nil {
			return err
		}
		if st.confOwners == 0 {
			return badRequest(msgNeedOwner)
		}
		st.autoscale(add)
	}
	for _, im := range news {
		m := &member{id: newGUID(), email: *im.Email, externalID: string(*im.ExternalID), status: status, typ: TypeUser, revision: now}
		if invite {
			m.invitations = 1
			s.stats.Invitations++
		}
		st.addMember(m)
		if extDict[m.externalID] == nil { // TryAdd
			extDict[m.externalID] = m
		}
	}
	return nil
}

// importGroups is step 6: groups matched by exact externalId are created or
// renamed, and their membership is replaced by the imported externalIds
// that resolve to members, with no write when the set is unchanged. Groups
// are never deleted.
func (st *state) importGroups(groups []importGroup, extDict map[string]*member, now time.Time) *apiError {
	byExt := make(map[string]importGroup, len(groups))
	for _, g := range groups {
		ext := string(*g.ExternalID)
		if _, ok := byExt[ext]; ok {
			return unhandled()
		}
		byExt[ext] = g
	}
	existing := map[string]*group{}
	for _, g := range st.groupOrder {
		if isBlank(g.externalID) {
			continue
		}
		if existing[g.externalID] != nil {
			return unhandled()
		}
		existing[g.externalID] = g
	}
	updates := make([]*group, 0, len(existing))
	for _, g := range st.groupOrder {
		if _, ok := byExt[g.externalID]; ok && existing[g.externalID] == g {
			updates = append(updates, g)
		}
	}
	for _, ig := range groups {
		ext := string(*ig.ExternalID)
		if existing[ext] != nil {
			continue
		}
		g := &group{id: newGUID(), name: *ig.Name, externalID: ext, revision: now}
		st.addGroup(g)
		st.setGroupMembers(g, resolveImported(ig, extDict), now)
	}
	for _, g := range updates {
		ig := byExt[g.externalID]
		if g.name != *ig.Name {
			g.name = *ig.Name
			g.revision = now
		}
		want := resolveImported(ig, extDict)
		if !sameMembers(g, want) {
			st.setGroupMembers(g, want, now)
		}
	}
	return nil
}

// resolveImported maps a group's memberExternalIds to the members known
// after steps 1-5; unknown ids are ignored.
func resolveImported(ig importGroup, extDict map[string]*member) []*member {
	seen := map[*member]bool{}
	var out []*member
	for _, ext := range ig.MemberExternalIDs {
		m := extDict[string(ext)]
		if m == nil || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	return out
}

// sameMembers compares the stored membership with the resolved one. Members
// removed earlier in the import still count, as their ids are still in the
// command's dictionary; the write then drops them.
func sameMembers(g *group, want []*member) bool {
	if len(want) != len(g.members) {
		return false
	}
	for _, m := range want {
		if _, ok := g.members[m]; !ok {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
