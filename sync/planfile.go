package sync

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fingerprint returns a hash of everything in the snapshot that the diff
// reads, independent of the order the source returned it in.
func (s Snapshot) Fingerprint() string {
	lines := make([]string, 0, len(s.Users)+len(s.Groups)+len(s.Held))
	for _, u := range s.Users {
		lines = append(lines, "u\x00"+u.ExternalID+"\x00"+u.Email+"\x00"+strconv.FormatBool(u.Disabled))
	}
	for _, g := range s.Groups {
		m := slices.Clone(g.Members)
		slices.Sort(m)
		lines = append(lines, "g\x00"+g.ExternalID+"\x00"+g.Name+"\x00"+strings.Join(m, ","))
	}
	for _, h := range s.Held {
		lines = append(lines, "h\x00"+h)
	}
	return hashLines(lines)
}

// Fingerprint returns a hash of everything in the organization's state
// that the diff reads, independent of order.
func (s OrgState) Fingerprint() string {
	lines := make([]string, 0, len(s.Members)+len(s.Groups))
	for _, m := range s.Members {
		lines = append(lines, fmt.Sprintf("m\x00%s\x00%s\x00%s\x00%d\x00%d", m.ID, strings.ToLower(m.Email), m.ExternalID, m.Status, m.Type))
	}
	for _, g := range s.Groups {
		ids := slices.Clone(g.MemberIDs)
		slices.Sort(ids)
		lines = append(lines, "g\x00"+g.ID+"\x00"+g.Name+"\x00"+g.ExternalID+"\x00"+strings.Join(ids, ","))
	}
	return hashLines(lines)
}

func hashLines(lines []string) string {
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SavedPlanVersion is the format version of a saved plan file.
const SavedPlanVersion = 1

// SavedPlan is a plan written by `dirbridge sync --dry-run --save-plan` for a
// person to review and `dirbridge apply` to carry out exactly, provided that
// neither the directory nor the organization changed in between.
type SavedPlan struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	// Organization is the organization's id; Scope what the source read.
	Organization string `json:"organization"`
	Scope        string `json:"scope"`
	// Source and State are the fingerprints of the snapshot and the
	// organization the plan was made from.
	Source string   `json:"source_fingerprint"`
	State  string   `json:"state_fingerprint"`
	Plan   JSONPlan `json:"plan"`
}

// NewSavedPlan records res's plan with the fingerprints of what it read.
func NewSavedPlan(res *Result, org, scope string, now time.Time) SavedPlan {
	return SavedPlan{
		Version: SavedPlanVersion, Created: now.UTC(), Organization: org, Scope: scope,
		Source: res.Snapshot.Fingerprint(), State: res.State.Fingerprint(), Plan: res.Plan.JSON(),
	}
}

// MaxSavedPlanSize bounds the plan files ReadSavedPlan accepts.
const MaxSavedPlanSize = 512 << 20

// ReadSavedPlan reads and checks a saved plan: strict JSON (unknown fields
// are errors), a known version, known actions, and the fields each action
// needs. Every problem is an error naming the operation.
func ReadSavedPlan(r io.Reader) (SavedPlan, []Op, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSavedPlanSize+1))
	if err != nil {
		return SavedPlan{}, nil, err
	}
	if len(data) > MaxSavedPlanSize {
		return SavedPlan{}, nil, fmt.Errorf("plan file is larger than %d bytes", MaxSavedPlanSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sp SavedPlan
	if err := dec.Decode(&sp); err != nil {
		return SavedPlan{}, nil, fmt.Errorf("plan file: %w", err)
	}
	if dec.More() {
		return SavedPlan{}, nil, errors.New("plan file: data after the plan")
	}
	if sp.Version != SavedPlanVersion {
		return SavedPlan{}, nil, fmt.Errorf("plan file: version %d is not %d", sp.Version, SavedPlanVersion)
	}
	if sp.Source == "" || sp.State == "" || sp.Organization == "" {
		return SavedPlan{}, nil, errors.New("plan file: the fingerprints or the organization are missing")
	}
	ops := make([]Op, 0, len(sp.Plan.Operations))
	var problems []string
	for i, jo := range sp.Plan.Operations {
		op, err := jo.op()
		if err != nil {
			problems = append(problems, fmt.Sprintf("operations[%d]: %v", i, err))
			continue
		}
		ops = append(ops, op)
	}
	if len(problems) > 0 {
		return SavedPlan{}, nil, fmt.Errorf("plan file: %s", strings.Join(problems, "; "))
	}
	return sp, ops, nil
}

// op turns a JSON operation back into an Op, checking what its action needs.
func (jo JSONOp) op() (Op, error) {
	a, err := ParseAction(jo.Action)
	if err != nil {
		return Op{}, err
	}
	op := Op{Action: a, Email: jo.Email, ExternalID: jo.ExternalID, Name: jo.Name, OldName: jo.OldName,
		MemberID: jo.MemberID, GroupID: jo.GroupID, Members: jo.Members, Added: jo.Added, Removed: jo.Removed,
		RemovedIDs: jo.RemovedIDs, Reason: jo.Reason}
	var missing []string
	need := func(field, v string) {
		if v == "" {
			missing = append(missing, field)
		}
	}
	switch a {
	case ActionInvite:
		need("email", op.Email)
		need("external_id", op.ExternalID)
	case ActionLink:
		need("member_id", op.MemberID)
		need("external_id", op.ExternalID)
	case ActionRevoke, ActionRestore, ActionRemove:
		need("member_id", op.MemberID)
	case ActionCreateGroup:
		need("name", op.Name)
		need("external_id", op.ExternalID)
	case ActionUpdateGroup, ActionDeleteGroup:
		need("group_id", op.GroupID)
	case ActionSetGroupMembers:
		need("external_id", op.ExternalID)
	}
	if len(missing) > 0 {
		return Op{}, fmt.Errorf("%s %s: %s missing", a, op.Subject(), strings.Join(missing, ", "))
	}
	return op, nil
}
