package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/statedir"
)

// The files of the state directory (statedir adds .json).
const (
	ledgerFile  = "ledger"
	lastRunFile = "last-run"
)

// resolveStateDir picks the state directory: the flag, the config, systemd's
// $STATE_DIRECTORY, then /var/lib/dirbridge for root or the XDG state home.
func resolveStateDir(flag string, cfg *Config, getenv func(string) (string, bool)) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if cfg.StateDir != "" {
		return cfg.StateDir, nil
	}
	if v, ok := getenv("STATE_DIRECTORY"); ok && v != "" {
		return filepath.SplitList(v)[0], nil
	}
	if os.Geteuid() == 0 {
		return "/var/lib/dirbridge", nil
	}
	if v, ok := getenv("XDG_STATE_HOME"); ok && v != "" {
		return filepath.Join(v, "dirbridge"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: set state_dir or --state-dir (%w)", err)
	}
	return filepath.Join(home, ".local", "state", "dirbridge"), nil
}

// loadLedger reads the ledger. A missing or corrupt one gives an empty
// ledger, which owns only what the directory yields: losing the state never
// causes deletions. A corrupt file is kept aside for inspection.
func loadLedger(dir *statedir.Dir, logger *slog.Logger, stateless bool) *sync.Ledger {
	l := sync.NewLedger()
	err := dir.Load(ledgerFile, l)
	switch {
	case err == nil:
		if l.Members == nil {
			l.Members = map[string]sync.LedgerMember{}
		}
		if l.Groups == nil {
			l.Groups = map[string]sync.LedgerGroup{}
		}
		return l
	case errors.Is(err, statedir.ErrNotExist) && stateless:
		logger.Warn("no ledger yet (a first run, or the state was lost): the organization cannot be read in import mode, "+
			"so dirbridge sends every active directory user and can revoke only those it sends from now on", "state_dir", dir.Path())
	case errors.Is(err, statedir.ErrNotExist):
		logger.Info("no ledger yet (a first run, or the state was lost): building it from the live organization; "+
			"dirbridge manages what the directory yields and leaves other members alone", "state_dir", dir.Path())
	default:
		aside := filepath.Join(dir.Path(), fmt.Sprintf("%s.json.corrupt-%s", ledgerFile, time.Now().UTC().Format("20060102T150405Z")))
		os.Rename(filepath.Join(dir.Path(), ledgerFile+".json"), aside)
		logger.Warn("the ledger is unreadable: rebuilding it from the live organization; members dirbridge cannot "+
			"account for are left alone until it has seen them", "err", err, "kept_as", aside)
	}
	return sync.NewLedger()
}

// scopeFingerprint hashes what the source reads, for the scope guard.
func scopeFingerprint(c *Config) string {
	sum := sha256.Sum256([]byte(sourceScope(c)))
	return hex.EncodeToString(sum[:16])
}

// lastRun is the summary of the last real run, kept for `dirbridge status`.
type lastRun struct {
	RunID      string         `json:"run_id"`
	Started    time.Time      `json:"started"`
	DurationMS int64          `json:"duration_ms"`
	Result     string         `json:"result"`
	Planned    map[string]int `json:"planned"`
	Applied    map[string]int `json:"applied"`
	Failed     int            `json:"failed"`
	Refusals   []jsonRefusal  `json:"refusals"`
	Error      string         `json:"error,omitempty"`
	Source     string         `json:"source"`
	Users      int            `json:"source_users"`
	Groups     int            `json:"source_groups"`
	Members    int            `json:"org_members"`
	LastOK     time.Time      `json:"last_success,omitzero"`
	NextRun    time.Time      `json:"next_run,omitzero"`
	Version    string         `json:"version"`
}

// newLastRun summarizes a run; prev carries the last success forward.
func newLastRun(res *sync.Result, err error, c *Config, prev lastRun) lastRun {
	lr := lastRun{RunID: res.RunID, Started: res.Started, DurationMS: res.Duration.Milliseconds(), Result: res.Outcome(),
		Planned: map[string]int{}, Applied: map[string]int{}, Failed: len(res.Failed), Refusals: []jsonRefusal{},
		Source: c.Source.Type, Users: res.Plan.SourceUsers, Groups: res.Plan.SourceGroups, Members: len(res.State.Members),
		LastOK: prev.LastOK, Version: buildVersion()}
	for a, n := range res.Plan.Counts() {
		lr.Planned[a.String()] = n
	}
	for a, n := range res.Applied {
		lr.Applied[a.String()] = n
	}
	for _, r := range res.Refusals {
		lr.Refusals = append(lr.Refusals, jsonRefusal{Guard: r.Guard, Reason: r.Reason, Held: len(r.Held)})
	}
	if err != nil {
		lr.Error = err.Error()
	}
	if lr.Result == "ok" || lr.Result == "no_changes" {
		lr.LastOK = res.Started.Add(res.Duration)
	}
	return lr
}
