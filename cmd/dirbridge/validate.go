package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/dirbridge/dirbridge/sink/bitwarden"
	"github.com/dirbridge/dirbridge/sync"
)

// runValidate is `dirbridge validate`: the configuration, then one cheap
// authenticated request to each side, with what each found.
func (m *Main) runValidate(ctx context.Context, args []string) error {
	fs, common := m.flags("validate")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, logger, err := m.load(common)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "configuration %s: ok\n", common.config)
	a, err := newApp(cfg, logger, "")
	if err != nil {
		return err
	}
	sink, src := a.sink, a.src
	if cfg.Bitwarden.Mode == bitwarden.ModeImport && len(cfg.Protect.Emails) == 0 {
		fmt.Fprintln(m.Stdout, "warning: in import mode dirbridge cannot see roles, so protect.roles does not apply; "+
			"list the owners and admins your directory yields in protect.emails")
	}
	var errs []error
	if msg, err := src.Check(ctx); err != nil {
		fmt.Fprintf(m.Stdout, "source %s: FAILED: %v\n", cfg.Source.Type, err)
		errs = append(errs, fmt.Errorf("source: %w", err))
	} else {
		fmt.Fprintf(m.Stdout, "source %s: ok: %s\n", cfg.Source.Type, msg)
	}
	if msg, err := sink.Check(ctx); err != nil {
		fmt.Fprintf(m.Stdout, "bitwarden: FAILED: %v\n", err)
		errs = append(errs, fmt.Errorf("bitwarden: %w", err))
	} else {
		fmt.Fprintf(m.Stdout, "bitwarden: ok: %s\n", msg)
	}
	if on, err := sink.SCIMEnabled(ctx); err != nil {
		fmt.Fprintf(m.Stdout, "scim guard: FAILED: %v\n", err)
		errs = append(errs, fmt.Errorf("scim guard: %w", err))
	} else if on {
		fmt.Fprintln(m.Stdout, "scim guard: SCIM provisioning is ON: dirbridge will refuse to sync this organization")
		errs = append(errs, sync.SCIMRefusal(sync.Plan{}))
	} else {
		fmt.Fprintln(m.Stdout, "scim guard: ok: SCIM provisioning is off (or not checked)")
	}
	return errors.Join(errs...)
}
