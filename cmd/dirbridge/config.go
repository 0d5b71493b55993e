package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden"
	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/alert"
	"github.com/dirbridge/dirbridge/sync/metrics"
)

// Config is dirbridge's whole configuration. config.example.yaml documents
// every key with its default.
type Config struct {
	Source    SourceConfig     `yaml:"source"`
	Bitwarden bitwarden.Config `yaml:"bitwarden"`
	Sync      SyncConfig       `yaml:"sync"`
	Protect   ProtectConfig    `yaml:"protect"`
	Safety    SafetyConfig     `yaml:"safety"`
	Run       RunConfig        `yaml:"run"`
	Metrics   metrics.Config   `yaml:"metrics"`
	Alerts    alert.Config     `yaml:"alerts"`
	// StateDir holds the ledger, the last run's summary and the instance
	// lock. Default: --state-dir, else $STATE_DIRECTORY (systemd), else
	// /var/lib/dirbridge as root, else ~/.local/state/dirbridge.
	StateDir string    `yaml:"state_dir"`
	Log      LogConfig `yaml:"log"`
}

// SyncConfig tunes what a sync changes.
type SyncConfig struct {
	// OnMissing is what happens to a member gone from (or disabled in) the
	// directory: revoke (default), remove or ignore.
	OnMissing string `yaml:"on_missing"`
	// RemoveAfter and RemoveAfterRuns are the grace period of remove: a
	// member is revoked at once and removed only once absent this long
	// and/or this many consecutive runs. Defaults 720h and 0 (unused).
	RemoveAfter     time.Duration `yaml:"remove_after"`
	RemoveAfterRuns int           `yaml:"remove_after_runs"`
	// AdoptForeign manages members whose external id dirbridge did not
	// set and the directory does not yield. Default false.
	AdoptForeign bool `yaml:"adopt_foreign"`
}

// ProtectConfig lists members dirbridge never revokes or removes.
type ProtectConfig struct {
	// Roles never revoked or removed: any of owner, admin, custom, user.
	// Default owner, admin, custom.
	Roles []string `yaml:"roles"`
	// Emails never revoked or removed. Default none.
	Emails []string `yaml:"emails"`
}

// SafetyConfig holds the deletion guards' thresholds.
type SafetyConfig struct {
	// MaxDeletes is the most revocations plus removals one run may make.
	// Default 10.
	MaxDeletes int `yaml:"max_deletes"`
	// MaxDeletesPercent is the same as a percentage of managed members.
	// Default 10.
	MaxDeletesPercent int `yaml:"max_deletes_percent"`
	// Thresholds bound each kind of deletion on its own.
	Thresholds ThresholdsConfig `yaml:"thresholds"`
	// MaxSourceDropPercent holds destructive changes when the directory
	// returns this much fewer users than the last good run. Default 20.
	MaxSourceDropPercent int `yaml:"max_source_drop_percent"`
}

// ThresholdsConfig is the per-action deletion thresholds.
type ThresholdsConfig struct {
	Revoke             sync.Threshold `yaml:"revoke"`
	Remove             sync.Threshold `yaml:"remove"`
	DeleteGroup        sync.Threshold `yaml:"delete_group"`
	MembershipRemovals sync.Threshold `yaml:"membership_removals"`
}

// RunConfig configures the daemon (dirbridge run).
type RunConfig struct {
	// Schedule is when runs are due after the one at start: five cron
	// fields, or @every 15m, @hourly, @daily. Default @every 15m.
	Schedule string `yaml:"schedule"`
	// Jitter delays each run by a random extra up to this. Default 0.
	Jitter time.Duration `yaml:"jitter"`
	// BackoffMin and BackoffMax bound the wait after failed runs.
	// Defaults 1m and 1h.
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
}

// LogConfig sets up logging.
type LogConfig struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is text (default) or json.
	Format string `yaml:"format"`
}

// DefaultConfig returns the configuration every file is decoded onto.
func DefaultConfig() Config {
	lim := sync.DefaultLimits()
	return Config{
		Source:    defaultSourceConfig(),
		Bitwarden: bitwarden.DefaultConfig(),
		Sync:      SyncConfig{OnMissing: string(sync.MissingRevoke), RemoveAfter: 720 * time.Hour},
		Protect:   ProtectConfig{Roles: []string{"owner", "admin", "custom"}},
		Safety: SafetyConfig{
			MaxDeletes: lim.MaxDeletes, MaxDeletesPercent: lim.MaxDeletesPercent,
			Thresholds: ThresholdsConfig{Revoke: lim.Revoke, Remove: lim.Remove, DeleteGroup: lim.DeleteGroup,
				MembershipRemovals: lim.MembershipRemovals},
			MaxSourceDropPercent: lim.MaxSourceDropPercent,
		},
		Run:     RunConfig{Schedule: "@every 15m", BackoffMin: time.Minute, BackoffMax: time.Hour},
		Metrics: metrics.DefaultConfig(),
		Alerts:  alert.DefaultConfig(),
		Log:     LogConfig{Level: "info", Format: "text"},
	}
}

var roleNames = map[string]sync.MemberType{
	"owner": sync.TypeOwner, "admin": sync.TypeAdmin, "user": sync.TypeUser, "custom": sync.TypeCustom,
}

// Validate returns every problem of the configuration, each with its key
// path.
func (c *Config) Validate() []string {
	var problems []string
	add := func(prefix string, ps []string) {
		for _, p := range ps {
			problems = append(problems, prefix+p)
		}
	}
	if k, ok := lookupSource(c.Source.Type); ok {
		add("source."+c.Source.Type+".", k.validate(&c.Source))
	} else if c.Source.Type == "" {
		problems = append(problems, "source.type: is required (one of "+strings.Join(sourceNames(), ", ")+")")
	} else {
		problems = append(problems, fmt.Sprintf("source.type: %q is not one of %s", c.Source.Type, strings.Join(sourceNames(), ", ")))
	}
	add("bitwarden.", c.Bitwarden.Validate())
	switch sync.OnMissing(c.Sync.OnMissing) {
	case sync.MissingRevoke, sync.MissingRemove, sync.MissingIgnore:
	default:
		problems = append(problems, fmt.Sprintf("sync.on_missing: %q is not one of revoke, remove, ignore", c.Sync.OnMissing))
	}
	if c.Sync.RemoveAfter < 0 || c.Sync.RemoveAfterRuns < 0 {
		problems = append(problems, "sync.remove_after, sync.remove_after_runs: must not be negative")
	}
	for i, r := range c.Protect.Roles {
		if _, ok := roleNames[strings.ToLower(r)]; !ok {
			problems = append(problems, fmt.Sprintf("protect.roles[%d]: %q is not one of owner, admin, custom, user", i, r))
		}
	}
	for i, e := range c.Protect.Emails {
		if !sync.ValidEmail(strings.ToLower(strings.TrimSpace(e))) {
			problems = append(problems, fmt.Sprintf("protect.emails[%d]: %q is not an email", i, e))
		}
	}
	problems = append(problems, c.Safety.validate()...)
	if _, err := sync.ParseSchedule(c.Run.Schedule); err != nil {
		problems = append(problems, "run.schedule: "+err.Error())
	}
	if c.Run.Jitter < 0 || c.Run.BackoffMin <= 0 || c.Run.BackoffMax < c.Run.BackoffMin {
		problems = append(problems, "run: jitter must not be negative, and 0 < backoff_min <= backoff_max")
	}
	add("metrics.", c.Metrics.Validate())
	add("alerts.", c.Alerts.Validate())
	add("log.", c.Log.validate())
	return problems
}

func (s SafetyConfig) validate() []string {
	var problems []string
	count := func(key string, n int) {
		if n < 0 {
			problems = append(problems, "safety."+key+": must be 0 (off) or more")
		}
	}
	percent := func(key string, n int) {
		if n < 0 || n > 100 {
			problems = append(problems, "safety."+key+": must be between 0 (off) and 100")
		}
	}
	count("max_deletes", s.MaxDeletes)
	percent("max_deletes_percent", s.MaxDeletesPercent)
	percent("max_source_drop_percent", s.MaxSourceDropPercent)
	for name, t := range map[string]sync.Threshold{"revoke": s.Thresholds.Revoke, "remove": s.Thresholds.Remove,
		"delete_group": s.Thresholds.DeleteGroup, "membership_removals": s.Thresholds.MembershipRemovals} {
		count("thresholds."+name+".count", t.Count)
		percent("thresholds."+name+".percent", t.Percent)
	}
	slices.Sort(problems)
	return problems
}

func (l LogConfig) validate() []string {
	var problems []string
	if _, err := parseLevel(l.Level); err != nil {
		problems = append(problems, "level: "+err.Error())
	}
	if l.Format != "text" && l.Format != "json" {
		problems = append(problems, fmt.Sprintf("format: %q is not one of text, json", l.Format))
	}
	return problems
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// newLogger builds the process's one logger.
func newLogger(w io.Writer, c LogConfig) *slog.Logger {
	level, _ := parseLevel(c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// diffOptions returns the diff's options from the configuration.
func (c *Config) diffOptions() sync.Options {
	roles := []sync.MemberType{}
	for _, r := range c.Protect.Roles {
		roles = append(roles, roleNames[strings.ToLower(r)])
	}
	return sync.Options{
		OnMissing:       sync.OnMissing(c.Sync.OnMissing),
		ProtectedRoles:  roles,
		ProtectedEmails: c.Protect.Emails,
		AdoptForeign:    c.Sync.AdoptForeign,
		RemoveAfter:     c.Sync.RemoveAfter,
		RemoveAfterRuns: c.Sync.RemoveAfterRuns,
	}
}

// limits returns the deletion guards' thresholds.
func (c *Config) limits() sync.Limits {
	t := c.Safety.Thresholds
	return sync.Limits{
		MaxDeletes: c.Safety.MaxDeletes, MaxDeletesPercent: c.Safety.MaxDeletesPercent,
		Revoke: t.Revoke, Remove: t.Remove, DeleteGroup: t.DeleteGroup, MembershipRemovals: t.MembershipRemovals,
		MaxSourceDropPercent: c.Safety.MaxSourceDropPercent,
	}
}
