package sync

import (
	"encoding/json"
	"fmt"
	"io"
)

// symbol marks an operation in the text plan: + adds access, ~ changes, -
// takes access away.
func (a Action) symbol() string {
	switch a {
	case ActionInvite, ActionRestore, ActionCreateGroup:
		return "+"
	case ActionRevoke, ActionRemove, ActionDeleteGroup:
		return "-"
	}
	return "~"
}

// MaxListedMembers is how many added or removed members the text plan lists
// under one set_group_members before it sums up the rest (the JSON plan
// lists all of them).
const MaxListedMembers = 20

// WriteText writes the plan for a person, like a terraform plan: the count
// of every action planned, then each change with its reason (+ gives access,
// ~ changes, - takes access away), then what the plan leaves alone and why.
func (p Plan) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	if p.Empty() {
		ew.printf("No changes: the organization is in step with the directory (%s, %s).\n",
			plural(p.SourceUsers, "user"), plural(p.SourceGroups, "group"))
	} else {
		ew.printf("Plan: %s for %s and %s in the directory.\n\n",
			plural(len(p.Ops), "change"), plural(p.SourceUsers, "user"), plural(p.SourceGroups, "group"))
		counts := p.Counts()
		for _, a := range Actions {
			if counts[a] > 0 {
				ew.printf("  %-18s %6d\n", a, counts[a])
			}
		}
		ew.printf("\n")
		writeOps(ew, p.Ops)
	}
	if len(p.Notes) > 0 {
		ew.printf("\nLeft alone (%d):\n", len(p.Notes))
		for _, n := range p.Notes {
			ew.printf("  ! %s\n", n)
		}
	}
	return ew.err
}

// writeOps writes one aligned row per operation, and under a membership
// change the members it adds and takes out.
func writeOps(ew *errWriter, ops []Op) {
	rows := make([][3]string, len(ops))
	var width [3]int
	for i, op := range ops {
		subject := op.Email
		switch op.Action {
		case ActionUpdateGroup:
			subject = fmt.Sprintf("%q -> %q", op.OldName, op.Name)
		case ActionCreateGroup, ActionDeleteGroup, ActionSetGroupMembers:
			subject = fmt.Sprintf("%q", op.Name)
		}
		rows[i] = [3]string{op.Action.symbol() + " " + op.Action.String(), subject, "(" + op.ExternalID + ")"}
		for c, cell := range rows[i] {
			width[c] = max(width[c], len(cell))
		}
	}
	for i, op := range ops {
		r := rows[i]
		detail := op.Reason
		if op.Action == ActionSetGroupMembers {
			detail = fmt.Sprintf("%s: +%d -%d", op.Reason, len(op.Added), len(op.Removed))
		}
		if op.Bulk {
			detail += " [via import]"
		}
		ew.printf("%-*s  %-*s  %-*s  %s\n", width[0], r[0], width[1], r[1], width[2], r[2], detail)
		listMembers(ew, "+", op.Added)
		listMembers(ew, "-", op.Removed)
	}
}

func listMembers(ew *errWriter, sign string, emails []string) {
	for i, e := range emails {
		if i == MaxListedMembers {
			ew.printf("      %s ... and %d more\n", sign, len(emails)-i)
			return
		}
		ew.printf("      %s %s\n", sign, e)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// JSONPlan is the machine-readable form of a plan (--output json).
type JSONPlan struct {
	// Summary counts the operations of every action, zeros included.
	Summary    map[string]int `json:"summary"`
	Operations []JSONOp       `json:"operations"`
	Notes      []JSONNote     `json:"notes"`
}

// JSONOp is one operation in a JSONPlan. Member operations carry email and
// external_id; group operations name and external_id.
type JSONOp struct {
	Action     string   `json:"action"`
	Email      string   `json:"email,omitempty"`
	ExternalID string   `json:"external_id"`
	Name       string   `json:"name,omitempty"`
	OldName    string   `json:"old_name,omitempty"`
	MemberID   string   `json:"member_id,omitempty"`
	GroupID    string   `json:"group_id,omitempty"`
	Members    []string `json:"members,omitempty"`
	Added      []string `json:"added,omitempty"`
	Removed    []string `json:"removed,omitempty"`
	// RemovedIDs are the organization ids of the removed members.
	RemovedIDs []string `json:"removed_ids,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	// Path is "import" for an operation on the bulk path, else "api".
	Path string `json:"path"`
}

// JSONNote is one Note in a JSONPlan.
type JSONNote struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// JSON returns the plan's machine-readable form.
func (p Plan) JSON() JSONPlan {
	out := JSONPlan{Summary: map[string]int{}, Operations: []JSONOp{}, Notes: []JSONNote{}}
	for a, n := range p.Counts() {
		out.Summary[a.String()] = n
	}
	for _, op := range p.Ops {
		jo := JSONOp{
			Action: op.Action.String(), ExternalID: op.ExternalID, Name: op.Name, OldName: op.OldName,
			MemberID: op.MemberID, GroupID: op.GroupID, Members: op.Members, Added: op.Added, Removed: op.Removed,
			RemovedIDs: op.RemovedIDs, Reason: op.Reason, Path: "api",
		}
		if op.Bulk {
			jo.Path = "import"
		}
		if !op.Action.IsGroup() {
			jo.Email = op.Email
		}
		out.Operations = append(out.Operations, jo)
	}
	for _, n := range p.Notes {
		out.Notes = append(out.Notes, JSONNote(n))
	}
	return out
}

// WriteJSON writes the plan's machine-readable form, indented.
func (p Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p.JSON())
}

// errWriter keeps the first write error so a renderer can check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
