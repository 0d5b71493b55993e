package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// Exit codes. Documented in the README.
const (
	exitOK      = 0 // done, or nothing to do
	exitFailed  = 1 // the run failed
	exitUsage   = 2 // bad usage or configuration
	exitRefused = 3 // refused by a guard
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// Main is the dirbridge program, with its inputs and outputs as fields so
// that tests can run it in-process.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (for ${VAR} in the config).
	Getenv func(string) (string, bool)
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv}
}

// usageError is bad command-line usage (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

const usage = `dirbridge keeps a Bitwarden organization in step with a directory.

Usage:
  dirbridge sync [--dry-run [--save-plan FILE]] [--output text|json] [--force]
                 [--accept-scope-change] --config FILE
  dirbridge apply FILE --config FILE
  dirbridge check --config FILE
  dirbridge run --config FILE
  dirbridge status --config FILE
  dirbridge validate --config FILE
  dirbridge version

Commands:
  sync       read the directory and the organization, plan, and apply the plan
             (with --dry-run, print the plan and change nothing)
  apply      carry out a plan saved by sync --dry-run --save-plan, exactly, if
             neither the directory nor the organization changed since
  check      exit 0 when the organization is in step with the directory, 4 when
             changes are pending (for monitoring)
  run        the daemon: sync at start, then on run.schedule
  status     print the last run's result from the state directory
  validate   check the configuration, log in to Bitwarden and probe the directory
  version    print the version

Every command takes --config FILE (default $DIRBRIDGE_CONFIG, else
/etc/dirbridge/config.yaml), --state-dir DIR and --log-level LEVEL.

Exit codes: 0 done or nothing to do, 1 failed, 2 bad usage or configuration,
3 refused by a guard, 4 changes pending (check).
`

// Run runs the command in args and returns the process's exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "sync":
		err = m.runSync(ctx, rest)
	case "validate":
		err = m.runValidate(ctx, rest)
	case "check":
		err = m.runCheck(ctx, rest)
	case "apply":
		err = m.runApply(ctx, rest)
	case "status":
		err = m.runStatus(ctx, rest)
	case "run":
		err = m.runDaemon(ctx, rest)
	case "version", "--version", "-version":
		fmt.Fprintf(m.Stdout, "dirbridge %s\n", buildVersion())
	case "help", "-h", "--help", "-help":
		fmt.Fprint(m.Stdout, usage)
	default:
		err = &usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	return m.exit(err)
}

// exit prints err and chooses the exit code; only main prints errors.
func (m *Main) exit(err error) int {
	var (
		ue *usageError
		ce *ConfigError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(m.Stderr, "dirbridge: %v\n\n%s", err, usage)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(m.Stderr, "dirbridge: %v\n", err)
		return exitUsage
	case errors.Is(err, errPending):
		return exitPending
	case errors.As(err, new(*sync.ApplyError)):
		fmt.Fprintf(m.Stderr, "dirbridge: %v\n", err)
		return exitFailed
	case errors.Is(err, sync.ErrRefused):
		fmt.Fprintf(m.Stderr, "dirbridge: %v\n", err)
		return exitRefused
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	fmt.Fprintf(m.Stderr, "dirbridge: %v\n", err)
	return exitFailed
}

// flags returns a flag set for a command, with the flags every command
// shares.
func (m *Main) flags(name string) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet("dirbridge "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &commonFlags{}
	def, _ := m.Getenv("DIRBRIDGE_CONFIG")
	if def == "" {
		def = "/etc/dirbridge/config.yaml"
	}
	fs.StringVar(&c.config, "config", def, "configuration `file` (or $DIRBRIDGE_CONFIG)")
	fs.StringVar(&c.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides log.level)")
	fs.StringVar(&c.stateDir, "state-dir", "", "state `directory` (default: state_dir, $STATE_DIRECTORY, /var/lib/dirbridge)")
	return fs, c
}

type commonFlags struct {
	config   string
	logLevel string
	stateDir string
}

// app loads the configuration and wires it, with its state directory.
func (m *Main) app(c *commonFlags) (*app, error) {
	cfg, logger, err := m.load(c)
	if err != nil {
		return nil, err
	}
	dir, err := resolveStateDir(c.stateDir, cfg, m.Getenv)
	if err != nil {
		return nil, err
	}
	return newApp(cfg, logger, dir)
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// load reads the configuration and builds the logger it asks for.
func (m *Main) load(c *commonFlags) (*Config, *slog.Logger, error) {
	cfg, err := LoadConfig(c.config, m.Getenv)
	if err != nil {
		return nil, nil, err
	}
	if c.logLevel != "" {
		cfg.Log.Level = c.logLevel
		if problems := cfg.Log.validate(); len(problems) > 0 {
			return nil, nil, &usageError{"--log-level: " + strings.Join(problems, "; ")}
		}
	}
	return cfg, newLogger(m.Stderr, cfg.Log), nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
