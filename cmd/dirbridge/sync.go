package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// runSync is `dirbridge sync`: one run, then exit.
func (m *Main) runSync(ctx context.Context, args []string) error {
	fs, common := m.flags("sync")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	output := fs.String("output", "text", "output format: text or json")
	force := fs.Bool("force", false, "apply even when the deletion guards would refuse (never overrides the SCIM guard)")
	acceptScope := fs.Bool("accept-scope-change", false, "accept a changed source scope (filters, base DNs, mapping) for this run")
	savePlan := fs.String("save-plan", "", "with --dry-run, write the plan to `FILE` for review and `dirbridge apply`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return &usageError{fmt.Sprintf("--output: %q is not one of text, json", *output)}
	}
	if *savePlan != "" && !*dryRun {
		return &usageError{"--save-plan needs --dry-run: a saved plan is applied later with dirbridge apply"}
	}
	a, err := m.app(common)
	if err != nil {
		return err
	}
	if !*dryRun {
		unlock, err := a.lock()
		if err != nil {
			return err
		}
		defer unlock()
	}
	if *dryRun && *output == "text" {
		fmt.Fprintln(m.Stdout, "DRY RUN: reading the directory and the organization; nothing will be changed.")
	}
	res, err := a.runOnce(ctx, sync.RunOptions{DryRun: *dryRun, Force: *force, AcceptScopeChange: *acceptScope})
	if !*dryRun {
		a.alert(ctx, res)
	}
	if res != nil && res.Planned {
		if werr := writeResult(m.Stdout, *output, res); werr != nil {
			return errors.Join(err, werr)
		}
	}
	if *savePlan != "" && res != nil && (err == nil || errors.Is(err, sync.ErrRefused)) {
		if werr := writeSavedPlan(*savePlan, a, res); werr != nil {
			return errors.Join(err, werr)
		}
		if *output == "text" {
			fmt.Fprintf(m.Stdout, "Plan saved to %s: review it, then run dirbridge apply %s.\n", *savePlan, *savePlan)
		}
	}
	return err
}

// writeSavedPlan writes the run's plan for `dirbridge apply`.
func writeSavedPlan(path string, a *app, res *sync.Result) error {
	data, err := json.MarshalIndent(sync.NewSavedPlan(res, a.cfg.Bitwarden.OrganizationID, scopeFingerprint(a.cfg), time.Now()), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	return nil
}

// writeResult prints a run's plan and outcome.
func writeResult(w io.Writer, format string, res *sync.Result) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(newJSONResult(res))
	}
	if err := res.Plan.WriteText(w); err != nil {
		return err
	}
	if len(res.Warnings) > 0 {
		fmt.Fprintf(w, "\nDirectory entries left out or changed (%d):\n", len(res.Warnings))
		for _, n := range res.Warnings {
			fmt.Fprintf(w, "  ! %s\n", n)
		}
	}
	for _, r := range res.Refusals {
		if res.DryRun {
			fmt.Fprintf(w, "\nA REAL RUN WOULD BE REFUSED by the %s guard: %s.\n", r.Guard, r.Reason)
		} else {
			fmt.Fprintf(w, "\nREFUSED by the %s guard: %s.\nNothing was changed.\n", r.Guard, r.Reason)
		}
	}
	switch {
	case res.DryRun:
		fmt.Fprintln(w, "\nDRY RUN: nothing was changed.")
	case len(res.Refusals) > 0 || res.Plan.Empty():
	default:
		fmt.Fprintf(w, "\nApplied %d of %d changes in %s", res.AppliedTotal(), len(res.Plan.Ops), res.Duration.Round(time.Millisecond))
		if len(res.Failed) > 0 {
			fmt.Fprintf(w, "; %d failed:\n", len(res.Failed))
			for _, f := range res.Failed {
				fmt.Fprintf(w, "  x %v\n", f)
			}
		} else {
			fmt.Fprintln(w, ".")
		}
		if res.Stopped {
			fmt.Fprintln(w, "Stopped before the end: run again to finish.")
		}
	}
	return nil
}

// jsonResult is the --output json form of a run.
type jsonResult struct {
	RunID  string `json:"run_id"`
	DryRun bool   `json:"dry_run"`
	Result string `json:"result"`
	sync.JSONPlan
	Warnings   []sync.JSONNote `json:"warnings"`
	Refusals   []jsonRefusal   `json:"refusals"`
	Applied    map[string]int  `json:"applied"`
	Failed     []jsonFailure   `json:"failed"`
	DurationMS int64           `json:"duration_ms"`
}

type jsonRefusal struct {
	Guard  string `json:"guard"`
	Reason string `json:"reason"`
	Held   int    `json:"held"`
}

type jsonFailure struct {
	Action     string `json:"action"`
	Subject    string `json:"subject"`
	ExternalID string `json:"external_id"`
	Error      string `json:"error"`
}

func newJSONResult(res *sync.Result) jsonResult {
	out := jsonResult{
		RunID: res.RunID, DryRun: res.DryRun, Result: res.Outcome(), JSONPlan: res.Plan.JSON(),
		Warnings: []sync.JSONNote{}, Refusals: []jsonRefusal{}, Applied: map[string]int{}, Failed: []jsonFailure{},
		DurationMS: res.Duration.Milliseconds(),
	}
	for _, n := range res.Warnings {
		out.Warnings = append(out.Warnings, sync.JSONNote(n))
	}
	for _, r := range res.Refusals {
		out.Refusals = append(out.Refusals, jsonRefusal{Guard: r.Guard, Reason: r.Reason, Held: len(r.Held)})
	}
	for a, n := range res.Applied {
		out.Applied[a.String()] = n
	}
	for _, f := range res.Failed {
		out.Failed = append(out.Failed, jsonFailure{Action: f.Op.Action.String(), Subject: f.Op.Subject(), ExternalID: f.Op.ExternalID, Error: f.Err.Error()})
	}
	return out
}
