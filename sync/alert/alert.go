package alert

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// KindRefusal is the kind of an alert about a plan a guard held back.
const KindRefusal = "refusal"

// Alert is the JSON document a command reads on stdin and a webhook
// receives. Its keys are stable; doc.go documents them.
type Alert struct {
	// Kind is what happened: KindRefusal.
	Kind string `json:"kind"`
	// Time is when the run that refused ended.
	Time time.Time `json:"time"`
	// RunID is the run's id, as in its log lines.
	RunID string `json:"run_id"`
	// DryRun is true when the refusing run was a dry run, which changes
	// nothing anyway: a real run would be refused the same way.
	DryRun bool `json:"dry_run"`
	// Host is the name of the machine dirbridge runs on.
	Host string `json:"host"`
	// Organization is the Bitwarden organization's id.
	Organization string `json:"organization"`
	// Source is the source's type (ldap, scim, jumpcloud, file).
	Source string `json:"source"`
	// Text is a one-line summary for a person.
	Text string `json:"text"`
	// Refusals are the guards that held the plan back.
	Refusals []Refusal `json:"refusals"`
	// Affected are the operations held back that take access away or grant
	// it, one per operation however many guards hold it.
	Affected []Affected `json:"affected"`
}

// Refusal is one guard's refusal.
type Refusal struct {
	// Guard names the guard (sync.GuardSCIM, ...).
	Guard string `json:"guard"`
	// Reason says what tripped it and what to do.
	Reason string `json:"reason"`
	// Hold is the part of the plan it holds: "destructive", "invites" or
	// "all".
	Hold string `json:"hold"`
	// Held is the number of operations it holds.
	Held int `json:"held"`
}

// Affected is one operation held back: a member who would have been
// revoked, removed or invited, a group that would have been deleted, or a
// group whose members would have been taken out.
type Affected struct {
	// Action is the operation's action (sync.Action's name).
	Action string `json:"action"`
	// Subject is the member's email, or the group's name.
	Subject string `json:"subject"`
	// ExternalID is the member's or group's external id.
	ExternalID string `json:"external_id"`
	// Removed lists, for a membership change, the emails of the members it
	// would take out of the group.
	Removed []string `json:"removed,omitempty"`
}

// HoldName returns the name of a hold as alerts show it: "destructive",
// "invites" or "all".
func HoldName(h sync.Hold) string {
	switch h {
	case sync.HoldDestructive:
		return "destructive"
	case sync.HoldInvites:
		return "invites"
	case sync.HoldAll:
		return "all"
	}
	return fmt.Sprintf("hold(%d)", int(h))
}

// FromResult builds the alert for a run's refusals. org is the
// organization's id and source the source's type. Affected lists, in plan
// order and once each, the held operations that take access away (and the
// membership changes that take members out of groups) and the held
// invitations.
func FromResult(res *sync.Result, org, source string) Alert {
	host, _ := os.Hostname() // an empty host is better than no alert
	a := Alert{
		Kind:         KindRefusal,
		Time:         res.Started.Add(res.Duration).UTC().Truncate(time.Millisecond),
		RunID:        res.RunID,
		DryRun:       res.DryRun,
		Host:         host,
		Organization: org,
		Source:       source,
		Refusals:     []Refusal{},
		Affected:     []Affected{},
	}
	type key struct{ action, memberID, groupID, externalID, subject string }
	seen := map[key]bool{}
	for _, r := range res.Refusals {
		a.Refusals = append(a.Refusals, Refusal{Guard: r.Guard, Reason: r.Reason, Hold: HoldName(r.Hold), Held: len(r.Held)})
		for _, op := range r.Held {
			if !affects(r.Hold, op) {
				continue
			}
			k := key{op.Action.String(), op.MemberID, op.GroupID, op.ExternalID, op.Subject()}
			if seen[k] {
				continue
			}
			seen[k] = true
			af := Affected{Action: op.Action.String(), Subject: op.Subject(), ExternalID: op.ExternalID}
			if op.Action == sync.ActionSetGroupMembers {
				af.Removed = append([]string(nil), op.Removed...)
			}
			a.Affected = append(a.Affected, af)
		}
	}
	a.Text = a.summary()
	return a
}

// affects reports whether a held operation goes into Affected: it takes
// access away, or it is an invitation the refusal holds.
func affects(h sync.Hold, op sync.Op) bool {
	switch {
	case op.Action.Destructive():
		return true
	case op.Action == sync.ActionSetGroupMembers:
		return len(op.RemovedIDs) > 0 || len(op.Removed) > 0
	case op.Action == sync.ActionInvite:
		return h == sync.HoldInvites || h == sync.HoldAll
	}
	return false
}

// Guards returns the names of the refusing guards, in order, once each.
func (a Alert) Guards() []string {
	var out []string
	for _, r := range a.Refusals {
		if !slices.Contains(out, r.Guard) {
			out = append(out, r.Guard)
		}
	}
	return out
}

// summary is the alert's one-line Text.
func (a Alert) summary() string {
	what := "held back part of the plan"
	for _, r := range a.Refusals {
		if r.Hold == "all" {
			what = "refused the whole plan"
		}
	}
	host := a.Host
	if host == "" {
		host = "an unnamed host"
	}
	n := len(a.Affected)
	changes := "changes"
	if n == 1 {
		changes = "change"
	}
	dry := ""
	if a.DryRun {
		dry = " (dry run)"
	}
	return fmt.Sprintf("dirbridge on %s %s for organization %s%s: %s; %d %s held, run %s",
		host, what, a.Organization, dry, strings.Join(a.Guards(), ", "), n, changes, a.RunID)
}
