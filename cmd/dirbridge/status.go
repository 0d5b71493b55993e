package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync/statedir"
)

// runStatus is `dirbridge status`: the last run's result, from the state
// directory. It exits 1 when the last run failed or was refused.
func (m *Main) runStatus(_ context.Context, args []string) error {
	fs, common := m.flags("status")
	output := fs.String("output", "text", "output format: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, _, err := m.load(common)
	if err != nil {
		return err
	}
	path, err := resolveStateDir(common.stateDir, cfg, m.Getenv)
	if err != nil {
		return err
	}
	dir, err := statedir.Open(path)
	if err != nil {
		return err
	}
	var lr lastRun
	if err := dir.Load(lastRunFile, &lr); err != nil {
		if errors.Is(err, statedir.ErrNotExist) {
			return fmt.Errorf("no run recorded in %s yet", path)
		}
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(lr); err != nil {
			return err
		}
	} else {
		writeStatus(m, lr, path)
	}
	switch lr.Result {
	case "failed", "error", "stopped":
		return fmt.Errorf("the last run %s: %s", lr.Result, lr.Error)
	case "refused":
		return fmt.Errorf("the last run was refused by a guard")
	}
	return nil
}

func writeStatus(m *Main, lr lastRun, dir string) {
	w := m.Stdout
	ago := time.Since(lr.Started).Round(time.Second)
	fmt.Fprintf(w, "last run:      %s, %s ago (run %s, %s)\n", lr.Started.Local().Format(time.DateTime), ago, lr.RunID,
		(time.Duration(lr.DurationMS) * time.Millisecond).String())
	fmt.Fprintf(w, "result:        %s\n", lr.Result)
	fmt.Fprintf(w, "directory:     %s, %d users, %d groups\n", lr.Source, lr.Users, lr.Groups)
	fmt.Fprintf(w, "organization:  %d members\n", lr.Members)
	fmt.Fprintf(w, "planned:       %s\n", counts(lr.Planned))
	fmt.Fprintf(w, "applied:       %s\n", counts(lr.Applied))
	if lr.Failed > 0 {
		fmt.Fprintf(w, "failed:        %d operations\n", lr.Failed)
	}
	for _, r := range lr.Refusals {
		fmt.Fprintf(w, "refused by:    %s guard (%d held): %s\n", r.Guard, r.Held, r.Reason)
	}
	if lr.Error != "" {
		fmt.Fprintf(w, "error:         %s\n", lr.Error)
	}
	if !lr.LastOK.IsZero() {
		fmt.Fprintf(w, "last success:  %s\n", lr.LastOK.Local().Format(time.DateTime))
	}
	if !lr.NextRun.IsZero() {
		fmt.Fprintf(w, "next run:      %s\n", lr.NextRun.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "state:         %s (dirbridge %s)\n", dir, lr.Version)
}

// counts renders a count per action, non-zero ones only.
func counts(c map[string]int) string {
	var parts []string
	for a, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, n))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
