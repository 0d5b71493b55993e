package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// runSync is `dirbridge sync`: one run, then exit.
func (m *Main) runSync(ctx context.Context, args []string) error {
	fs, common := m.flags("sync")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	output := fs.String("output", "text", "output format: text or json")
	force := fs.Bool("force", false, "apply even when the deletion guards would refuse (never overrides the SCIM guard)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return &usageError{fmt.Sprintf("--output: %q is not one of text, json", *output)}
	}
	cfg, logger, err := m.load(common)
	if err != nil {
		return err
	}
	syncer, _, _, err := newSyncer(cfg, logger)
	if err != nil {
		return err
	}
	if *dryRun && *output == "text" {
		fmt.Fprintln(m.Stdout, "DRY RUN: reading the directory and the organization; nothing will be changed.")
	}
	res, err := syncer.Run(ctx, sync.RunOptions{DryRun: *dryRun, Force: *force})
	if res != nil && (res.Plan.SourceUsers > 0 || !res.Plan.Empty() || len(res.Refusals) > 0 || err == nil) {
		if werr := writeResult(m.Stdout, *output, res); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
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
