package sync

import (
	"fmt"
	"strings"
	"time"
)

// gone plans what happens to a managed member who is disabled in the
// directory or absent from it, by the OnMissing lifecycle. Protected members
// are left alone with a note.
func (d *differ) gone(mi int32, extID, reason string) {
	m := &d.have.Members[mi]
	switch {
	case d.opt.OnMissing == MissingIgnore:
	case !d.manageable(m):
		if m.Status != StatusRevoked || d.opt.OnMissing == MissingRemove {
			d.protectedNote(m, reason)
		}
	case d.opt.OnMissing == MissingRemove && d.opt.ImportOnly && m.Status == StatusRevoked:
		// Revoked, and the import cannot remove: nothing more to do.
	case d.opt.OnMissing == MissingRemove && !d.opt.ImportOnly && d.removalDue(extID):
		d.keep[mi] = false
		delete(d.keepIDs, m.ID)
		d.op(Op{Action: ActionRemove, MemberID: m.ID, Email: m.Email, ExternalID: extID, Name: m.Name, Reason: reason})
	case m.Status != StatusRevoked:
		if d.opt.OnMissing == MissingRemove && !d.opt.ImportOnly {
			reason += "; removal after the grace period"
		}
		d.op(Op{Action: ActionRevoke, MemberID: m.ID, Email: m.Email, ExternalID: extID, Name: m.Name, Reason: reason})
	default:
		if d.opt.OnMissing == MissingRemove {
			d.note("removal_pending", m.Email, "revoked; "+d.removalWhen(extID))
		}
	}
}

// removalDue reports whether a member absent (or disabled) has served the
// grace period of MissingRemove, counting this run.
func (d *differ) removalDue(ext string) bool {
	if d.opt.Ledger == nil || (d.opt.RemoveAfter <= 0 && d.opt.RemoveAfterRuns <= 0) {
		return true
	}
	entry, ok := d.opt.Ledger.Members[ext]
	if !ok || entry.AbsentSince.IsZero() {
		return false // absent from this run on
	}
	if d.opt.RemoveAfter > 0 && d.opt.Now.Sub(entry.AbsentSince) < d.opt.RemoveAfter {
		return false
	}
	return d.opt.RemoveAfterRuns <= 0 || entry.AbsentRuns+1 >= d.opt.RemoveAfterRuns
}

// removalWhen says when a revoked member will be removed.
func (d *differ) removalWhen(ext string) string {
	entry := d.opt.Ledger.Members[ext]
	since := entry.AbsentSince
	if since.IsZero() {
		since = d.opt.Now
	}
	var parts []string
	if d.opt.RemoveAfter > 0 {
		parts = append(parts, "from "+since.Add(d.opt.RemoveAfter).UTC().Format(time.RFC3339))
	}
	if d.opt.RemoveAfterRuns > 0 {
		parts = append(parts, fmt.Sprintf("after %d more run(s)", max(d.opt.RemoveAfterRuns-entry.AbsentRuns-1, 1)))
	}
	return "to be removed " + strings.Join(parts, " and ")
}

// manageable reports whether dirbridge may revoke or remove m.
func (d *differ) manageable(m *Member) bool {
	return !d.protected[m.Type] && (len(d.protectedEmails) == 0 || !d.protectedEmails[strings.ToLower(m.Email)])
}

func (d *differ) protectedNote(m *Member, reason string) {
	why := m.Type.String() + " role is protected"
	if d.protectedEmails[strings.ToLower(m.Email)] {
		why = "listed in protect.emails"
	}
	d.note("protected", m.Email, fmt.Sprintf("%s; left alone (%s)", reason, why))
}
