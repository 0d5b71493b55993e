package bitwarden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// Import mode (mode: import) is for Vaultwarden, whose Public API is the
// import endpoint alone (specs/bitwarden-api.md section 6): no member or
// group can be read, so the sink is a sync.StatelessSink. The Syncer plans
// against the organization its ledger remembers and hands every operation
// to ApplyBulk, which sends the desired state of the members and groups the
// plan touches as Vaultwarden reads an import, in one request unless there
// are more than 500 members:
//
//	invite, restore     {email, externalId, deleted: false}  matched by email: invited, or restored and re-keyed
//	revoke              {email, externalId, deleted: true}   matched by email: revoked (the last owner never)
//	create_group,       {name, externalId, memberExternalIds} with vaultwarden_groups only: created when new,
//	set_group_members                                         membership replaced
//
// Renames and deletions of groups, links and removals have no import entry:
// the plan reports them instead (sync.Options.ImportOnly), and ApplyBulk fails
// any that arrive.
//
// Vaultwarden answers 200 with nothing to read back, so a 200 means every
// operation of that request took effect.

var _ sync.StatelessSink = (*Sink)(nil)

// ErrCannotRead is the error of State and Apply in import mode: the
// organization cannot be read, and every change goes through ApplyBulk.
var ErrCannotRead = errors.New("bitwarden: mode: import: the organization cannot be read " +
	"(Vaultwarden offers only the import endpoint); dirbridge works from its ledger")

// vwMaxMembers is the most member entries in one request. Vaultwarden has
// no cap, but handles an import entry by entry and, when it mails
// invitations, sends each one before it moves on: 500 invites at a tenth of
// a second each fit in one attempt of the default 60s timeout. (A request
// that times out is sent again, and Vaultwarden skips the members it has
// already added, but the attempt's work is lost.)
const vwMaxMembers = 500

// vwMaxEntryBytes is the largest entry sent: Vaultwarden reads at most 20 MB
// of JSON a request (Rocket's "json" limit in its main.rs) and answers 413
// above it. Requests hold at most maxImportBytes, bar one group alone.
const vwMaxEntryBytes = 20<<20 - 1<<10

// Stateless reports whether the organization cannot be read: true in
// import mode.
func (s *Sink) Stateless() bool { return s.cfg.importMode() }

// vwImportRequest is Vaultwarden's OrgImportData: the three fields it
// requires, no more. Neither array may be null, and overwriteExisting is
// always false: it would delete every member the request does not list.
type vwImportRequest struct {
	Groups            []json.RawMessage `json:"groups"`
	Members           []json.RawMessage `json:"members"`
	OverwriteExisting bool              `json:"overwriteExisting"`
}

// checkImport is Check in import mode: it logs in and sends an empty
// import, which changes nothing.
func (s *Sink) checkImport(ctx context.Context) (string, error) {
	empty := vwImportRequest{Groups: []json.RawMessage{}, Members: []json.RawMessage{}}
	if err := s.do(ctx, http.MethodPost, importPath, empty, nil); err != nil {
		return "", err
	}
	return fmt.Sprintf("logged in to %s as organization %s; import endpoint answers "+
		"(Vaultwarden: the organization cannot be read; dirbridge works from its ledger)", s.apiURL, s.cfg.OrganizationID), nil
}

// importPlan is the operations of one ApplyBulk in import mode, sorted into
// the import's entries.
type importPlan struct {
	ops    []sync.Op
	failed map[int]error
	// members holds the member entries: revocations first, so that an
	// invite Vaultwarden fails on (a mail error stops the request there)
	// never holds back a revocation; then restorations, then invites.
	members []importEntry
	groups  []importEntry
}

// importGroupEntry gathers one group's operations.
type importGroupEntry struct {
	ext, name string
	members   []string // desired member external ids; nil until an operation sets them
	ops       []int
}

// newImportPlan sorts ops into entries. An operation the import cannot
// carry, or that names an email or external id another member operation of
// the same run names, fails at once.
func newImportPlan(ops []sync.Op, groups bool) *importPlan {
	p := &importPlan{ops: ops, failed: map[int]error{}}
	var revokes, restores, invites []int
	emails, exts := map[string]int{}, map[string]int{}
	byExt := map[string]*importGroupEntry{}
	var order []*importGroupEntry
	for i, op := range ops {
		if err := checkImportOp(op); err != nil {
			p.failed[i] = err
			continue
		}
		switch op.Action {
		case sync.ActionInvite, sync.ActionRestore, sync.ActionRevoke:
			email := strings.ToLower(op.Email)
			if j, dup := emails[email]; dup {
				p.failed[i] = fmt.Errorf("bitwarden: %s is also in this import (%s of external id %q); "+
					"Vaultwarden matches members by email, so only the first goes", email, ops[j].Action, ops[j].ExternalID)
				continue
			}
			if j, dup := exts[op.ExternalID]; dup {
				p.failed[i] = fmt.Errorf("bitwarden: external id %q is also in this import (%s of %s); only the first goes",
					op.ExternalID, ops[j].Action, ops[j].Email)
				continue
			}
			emails[email], exts[op.ExternalID] = i, i
			switch op.Action {
			case sync.ActionRevoke:
				revokes = append(revokes, i)
			case sync.ActionRestore:
				restores = append(restores, i)
			default:
				invites = append(invites, i)
			}
		case sync.ActionCreateGroup, sync.ActionSetGroupMembers:
			if !groups {
				// dirbridge leaves the groups out before planning then.
				p.failed[i] = errors.New("bitwarden: groups are not synced to Vaultwarden: bitwarden.vaultwarden_groups is false " +
					"(Vaultwarden ignores imported groups unless ORG_GROUPS_ENABLED=true)")
				continue
			}
			g := byExt[op.ExternalID]
			if g == nil {
				g = &importGroupEntry{ext: op.ExternalID, name: op.Name}
				byExt[op.ExternalID] = g
				order = append(order, g)
			}
			if err := g.add(op); err != nil {
				p.failed[i] = err
				continue
			}
			g.ops = append(g.ops, i)
		default:
			p.failed[i] = fmt.Errorf("bitwarden: mode: import cannot %s: Vaultwarden's import endpoint has no such change", op.Action)
		}
	}
	for _, idx := range [][]int{revokes, restores, invites} {
		for _, i := range idx {
			p.addMember(i)
		}
	}
	for _, g := range order {
		p.addGroup(g)
	}
	return p
}

// checkImportOp returns why the import cannot carry op, or nil.
func checkImportOp(op sync.Op) error {
	switch {
	case op.ExternalID == "":
		return fmt.Errorf("bitwarden: %s through the import endpoint needs an external id", op.Action)
	case !op.Action.IsGroup() && op.Email == "":
		return fmt.Errorf("bitwarden: %s through the import endpoint needs an email: Vaultwarden matches members by email", op.Action)
	case op.Action.IsGroup() && op.Name == "":
		return errors.New("bitwarden: a group needs a name")
	}
	return nil
}

// add records a group operation in the entry: the desired name, and for a
// set_group_members the desired members, including those a guard keeps
// (Op.KeepIDs, which name members by their ledger ids).
func (g *importGroupEntry) add(op sync.Op) error {
	if op.Action == sync.ActionSetGroupMembers {
		if g.members != nil {
			return fmt.Errorf("bitwarden: group %q has two %s operations in this run; left out", op.ExternalID, op.Action)
		}
		members := slices.Clone(op.Members)
		for _, id := range op.KeepIDs {
			ext, ok := sync.ExternalIDOfLedgerID(id)
			if !ok || ext == "" {
				return fmt.Errorf("bitwarden: %s keeps member %s, which the import cannot name by external id", op.Action, id)
			}
			members = append(members, ext)
		}
		g.members = slices.Compact(slices.Sorted(slices.Values(members)))
		if g.members == nil {
			g.members = []string{}
		}
	}
	g.name = op.Name // every operation carries the desired name
	return nil
}

// addMember encodes member operation i as an entry.
func (p *importPlan) addMember(i int) {
	op := p.ops[i]
	raw, err := json.Marshal(importMember{Email: strings.ToLower(op.Email), ExternalID: op.ExternalID,
		Deleted: op.Action == sync.ActionRevoke})
	if err != nil {
		p.failed[i] = err
		return
	}
	p.members = append(p.members, importEntry{raw: raw, ops: []int{i}})
}

// addGroup encodes a group entry; one whose every operation failed goes in
// no request.
func (p *importPlan) addGroup(g *importGroupEntry) {
	if len(g.ops) == 0 {
		return
	}
	members := g.members
	if members == nil {
		members = []string{} // created, and empty in the directory
	}
	raw, err := json.Marshal(importGroup{Name: g.name, ExternalID: g.ext, MemberExternalIDs: members})
	if err == nil && len(raw) > vwMaxEntryBytes {
		err = fmt.Errorf("bitwarden: the group's %d members make %d MB of JSON, more than the 20 MB "+
			"Vaultwarden reads in one request", len(members), len(raw)>>20)
	}
	if err != nil {
		for _, i := range g.ops {
			p.failed[i] = err
		}
		return
	}
	p.groups = append(p.groups, importEntry{raw: raw, ids: len(members), ops: g.ops})
}

// vwBatch is one import request's entries.
type vwBatch struct {
	members, groups []importEntry
	bytes, ids      int
}

func (b vwBatch) request() vwImportRequest {
	req := vwImportRequest{Groups: make([]json.RawMessage, 0, len(b.groups)), Members: make([]json.RawMessage, 0, len(b.members))}
	for _, e := range b.members {
		req.Members = append(req.Members, e.raw)
	}
	for _, e := range b.groups {
		req.Groups = append(req.Groups, e.raw)
	}
	return req
}

func (b vwBatch) ops() []int {
	var out []int
	for _, e := range slices.Concat(b.members, b.groups) {
		out = append(out, e.ops...)
	}
	return out
}

// batches packs the entries into requests: usually one; the members first
// and then the groups when there are more than 500 members or 2,000
// groups, or more than a few megabytes. Vaultwarden handles a request's members before its
// groups, so every group finds the members the requests before it, and its
// own, brought in.
func (p *importPlan) batches() []vwBatch {
	var out []vwBatch
	var cur vwBatch
	add := func(e importEntry, group bool) {
		full := cur.bytes+len(e.raw) > maxImportBytes || cur.ids+e.ids > maxImportMemberIDs ||
			(!group && len(cur.members) == vwMaxMembers) || (group && len(cur.groups) == maxImportGroups)
		if full && len(cur.members)+len(cur.groups) > 0 {
			out = append(out, cur)
			cur = vwBatch{}
		}
		if group {
			cur.groups = append(cur.groups, e)
		} else {
			cur.members = append(cur.members, e)
		}
		cur.bytes += len(e.raw) + 1
		cur.ids += e.ids
	}
	for _, e := range p.members {
		add(e, false)
	}
	for _, e := range p.groups {
		add(e, true)
	}
	if len(cur.members)+len(cur.groups) > 0 {
		out = append(out, cur)
	}
	return out
}

// applyImport is ApplyBulk in import mode.
func (s *Sink) applyImport(ctx context.Context, ops []sync.Op) []sync.OpError {
	start := time.Now()
	p := newImportPlan(ops, s.cfg.VaultwardenGroups)
	batches := p.batches()
	var abort error
	for n, b := range batches {
		if abort != nil {
			for _, i := range b.ops() {
				p.failed[i] = abort
			}
			continue
		}
		err := s.do(ctx, http.MethodPost, importPath, b.request(), nil)
		s.logger.Debug("import request", "request", n+1, "of", len(batches), "members", len(b.members),
			"groups", len(b.groups), "bytes", b.bytes, "err", err)
		if err == nil {
			continue
		}
		if len(batches) > 1 {
			err = fmt.Errorf("import request %d of %d: %w", n+1, len(batches), err)
		}
		for _, i := range b.ops() {
			p.failed[i] = err
		}
		if errors.Is(err, sync.ErrAbort) || ctx.Err() != nil {
			abort = err
		}
	}
	errs := opErrorsOf(ops, p.failed)
	s.logger.Info("import sent", "operations", len(ops), "members", len(p.members), "groups", len(p.groups),
		"requests", len(batches), "failed", len(errs), "duration", time.Since(start).Round(time.Millisecond).String())
	return errs
}
