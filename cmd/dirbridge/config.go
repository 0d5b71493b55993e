package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dirbridge/dirbridge/sink/bitwarden"
	"github.com/dirbridge/dirbridge/sync"
)

// Config is dirbridge's whole configuration. config.example.yaml documents
// every key with its default.
type Config struct {
	Source    SourceConfig     `yaml:"source"`
	Bitwarden bitwarden.Config `yaml:"bitwarden"`
	Sync      SyncConfig       `yaml:"sync"`
	Safety    SafetyConfig     `yaml:"safety"`
	Log       LogConfig        `yaml:"log"`
}

// SyncConfig tunes what a sync changes.
type SyncConfig struct {
	// OnMissing is what happens to a member gone from (or disabled in) the
	// directory: revoke (default), remove or ignore.
	OnMissing string `yaml:"on_missing"`
}

// SafetyConfig holds the deletion guard's thresholds.
type SafetyConfig struct {
	// MaxDeletes is the most revocations plus removals one run may make.
	// Default 10.
	MaxDeletes int `yaml:"max_deletes"`
	// MaxDeletesPercent is the same as a percentage of managed members.
	// Default 10.
	MaxDeletesPercent int `yaml:"max_deletes_percent"`
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
		Sync:      SyncConfig{OnMissing: string(sync.MissingRevoke)},
		Safety:    SafetyConfig{MaxDeletes: lim.MaxDeletes, MaxDeletesPercent: lim.MaxDeletesPercent},
		Log:       LogConfig{Level: "info", Format: "text"},
	}
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
	if c.Safety.MaxDeletes < 0 {
		problems = append(problems, "safety.max_deletes: must be 0 or more")
	}
	if c.Safety.MaxDeletesPercent < 0 || c.Safety.MaxDeletesPercent > 100 {
		problems = append(problems, "safety.max_deletes_percent: must be between 0 and 100")
	}
	add("log.", c.Log.validate())
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
	return sync.Options{OnMissing: sync.OnMissing(c.Sync.OnMissing)}
}

// limits returns the deletion guard's thresholds.
func (c *Config) limits() sync.Limits {
	return sync.Limits{MaxDeletes: c.Safety.MaxDeletes, MaxDeletesPercent: c.Safety.MaxDeletesPercent}
}
