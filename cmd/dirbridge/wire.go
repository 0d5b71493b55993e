package main

import (
	"fmt"
	"log/slog"

	"github.com/dirbridge/dirbridge/sink/bitwarden"
	"github.com/dirbridge/dirbridge/sync"
)

// newSyncer wires the configured source and sink into a Syncer.
func newSyncer(c *Config, logger *slog.Logger) (*sync.Syncer, *bitwarden.Sink, source, error) {
	src, err := newSource(c, logger)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("source: %w", err)
	}
	sink, err := bitwarden.New(c.Bitwarden, logger)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bitwarden: %w", err)
	}
	s := &sync.Syncer{
		Source:  src,
		Sink:    sink,
		SCIM:    sink,
		Options: c.diffOptions(),
		Limits:  c.limits(),
		Logger:  logger,
	}
	return s, sink, src, nil
}
