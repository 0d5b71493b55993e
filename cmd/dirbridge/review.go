package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/dirbridge/dirbridge/sync"
)

// exitPending is `dirbridge check`'s code for changes pending.
const exitPending = 4

// errPending means the organization is not in step with the directory.
var errPending = errors.New("changes are pending")

// runCheck is `dirbridge check`: a dry run that exits 0 when the
// organization is in step with the directory and 4 when changes are
// pending, for monitoring.
func (m *Main) runCheck(ctx context.Context, args []string) error {
	fs, common := m.flags("check")
	output := fs.String("output", "text", "output format: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return &usageError{fmt.Sprintf("--output: %q is not one of text, json", *output)}
	}
	a, err := m.app(common)
	if err != nil {
		return err
	}
	res, err := a.runOnce(ctx, sync.RunOptions{DryRun: true})
	if res == nil || !res.Planned {
		return err
	}
	if *output == "json" {
		if werr := writeResult(m.Stdout, "json", res); werr != nil {
			return werr
		}
	} else if res.Plan.Empty() {
		fmt.Fprintf(m.Stdout, "in step: %d users and %d groups in the directory, nothing to change\n", res.Plan.SourceUsers, res.Plan.SourceGroups)
	} else {
		fmt.Fprintf(m.Stdout, "changes pending: %s\n", res.Plan.Summary())
	}
	if !res.Plan.Empty() {
		return errPending
	}
	return nil
}

// runApply is `dirbridge apply FILE`: carry out a saved plan exactly, or
// refuse when the directory or the organization changed since it was saved.
func (m *Main) runApply(ctx context.Context, args []string) error {
	fs, common := m.flags("apply")
	output := fs.String("output", "text", "output format: text or json")
	var file string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return &usageError{err.Error()}
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		return &usageError{"apply takes one plan file, written by dirbridge sync --dry-run --save-plan FILE"}
	}
	f, err := os.Open(file)
	if err != nil {
		return &usageError{err.Error()}
	}
	saved, ops, err := sync.ReadSavedPlan(f)
	f.Close()
	if err != nil {
		return &usageError{fmt.Sprintf("%s: %v", file, err)}
	}
	a, err := m.app(common)
	if err != nil {
		return err
	}
	if saved.Organization != a.cfg.Bitwarden.OrganizationID {
		return &usageError{fmt.Sprintf("%s was made for organization %s, not %s", file, saved.Organization, a.cfg.Bitwarden.OrganizationID)}
	}
	unlock, err := a.lock()
	if err != nil {
		return err
	}
	defer unlock()
	res, err := a.runOnce(ctx, sync.RunOptions{Approved: &sync.Approval{Source: saved.Source, State: saved.State, Ops: ops}})
	a.alert(ctx, res)
	if res != nil && res.Planned {
		if werr := writeResult(m.Stdout, *output, res); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
}
