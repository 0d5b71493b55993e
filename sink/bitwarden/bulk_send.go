package bitwarden

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// The bounds of one import request.
const (
	importPath = "/public/organization/import"
	// maxImportMembers is the most members in one request: the cloud's
	// limit without largeImport, and what Directory Connector sends.
	maxImportMembers = 2000
	// maxImportGroups is the most groups in one request.
	maxImportGroups = 2000
	// maxImportBytes and maxImportMemberIDs bound a request's entries, so
	// that 2,000 large groups never make one request of many megabytes
	// (Directory Connector sends 13.7 MB for 2,000 groups of 100,000
	// users). A single group larger than that still goes, alone: the import
	// replaces a group's membership, so a group cannot be split.
	maxImportBytes     = 4 << 20
	maxImportMemberIDs = 100000
)

// importEntry is one encoded member or group of a request, and the
// operations it carries.
type importEntry struct {
	raw json.RawMessage
	ids int // member external ids, for a group
	ops []int
}

// importBatch is the entries of one request: members only or groups only.
type importBatch struct {
	groups  bool
	entries []importEntry
	bytes   int
}

// request returns the batch's request body. Both arrays are sent, empty
// rather than null; overwriteExisting is always false, so the import never
// removes anyone; largeImport lifts the cloud's limit of 2,000 entries
// (other servers ignore it).
func (ib importBatch) request() importRequest {
	req := importRequest{
		Groups:                       []json.RawMessage{},
		Members:                      []json.RawMessage{},
		LargeImport:                  true,
		InviteUsersAfterProvisioning: true,
	}
	for _, e := range ib.entries {
		if ib.groups {
			req.Groups = append(req.Groups, e.raw)
		} else {
			req.Members = append(req.Members, e.raw)
		}
	}
	return req
}

// batches returns the import requests for the pending operations: the
// members first, then the groups. An entry that cannot be encoded fails
// its operations.
func (b *bulkPlan) batches() []importBatch {
	var members, groups []importEntry
	for _, i := range b.invites {
		if b.failed[i] != nil {
			continue
		}
		op := b.ops[i]
		raw, err := json.Marshal(importMember{Email: strings.ToLower(op.Email), ExternalID: op.ExternalID})
		if err != nil {
			b.failed[i] = err
			continue
		}
		members = append(members, importEntry{raw: raw, ops: []int{i}})
	}
	for _, g := range b.groups {
		var ops []int
		for _, i := range g.ops() {
			if b.failed[i] == nil {
				ops = append(ops, i)
			}
		}
		if len(ops) == 0 {
			continue
		}
		raw, err := json.Marshal(importGroup{Name: g.name, ExternalID: g.ext, MemberExternalIDs: g.members})
		if err != nil {
			for _, i := range ops {
				b.failed[i] = err
			}
			continue
		}
		groups = append(groups, importEntry{raw: raw, ids: len(g.members), ops: ops})
	}
	return append(pack(members, false, maxImportMembers), pack(groups, true, maxImportGroups)...)
}

// pack cuts entries into batches of at most maxCount entries, and at most
// maxImportBytes and maxImportMemberIDs unless one entry alone is larger.
func pack(entries []importEntry, groups bool, maxCount int) []importBatch {
	var out []importBatch
	cur := importBatch{groups: groups}
	ids := 0
	for _, e := range entries {
		full := len(cur.entries) == maxCount || cur.bytes+len(e.raw) > maxImportBytes ||
			ids+e.ids > maxImportMemberIDs
		if len(cur.entries) > 0 && full {
			out = append(out, cur)
			cur, ids = importBatch{groups: groups}, 0
		}
		cur.entries = append(cur.entries, e)
		cur.bytes += len(e.raw) + 1
		ids += e.ids
	}
	if len(cur.entries) > 0 {
		out = append(out, cur)
	}
	return out
}

// sendBatches sends the import requests in order. A failed request records
// its error against the operations it carried and the next one still goes,
// unless the error stops the run (sync.ErrAbort, a canceled ctx): then
// every pending operation fails with it.
func (s *Sink) sendBatches(ctx context.Context, b *bulkPlan) {
	batches := b.batches()
	s.logger.Info("bulk import", "invites", len(b.invites), "groups", len(b.groups), "requests", len(batches))
	for n, batch := range batches {
		err := s.do(ctx, http.MethodPost, importPath, batch.request(), nil)
		s.logger.Debug("import request", "request", n+1, "of", len(batches), "groups", batch.groups,
			"entries", len(batch.entries), "bytes", batch.bytes, "err", err)
		if err == nil {
			continue
		}
		for _, e := range batch.entries {
			for _, i := range e.ops {
				b.sendErr[i] = err
			}
		}
		if errors.Is(err, sync.ErrAbort) || ctx.Err() != nil {
			b.failRest(err)
			return
		}
	}
}
