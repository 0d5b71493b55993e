package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dirbridge/dirbridge/sink/bitwarden"
	"github.com/dirbridge/dirbridge/sources/file"
	"github.com/dirbridge/dirbridge/sync"
)

// source is what dirbridge needs of a directory: a snapshot, and a cheap
// probe for validate.
type source interface {
	sync.Source
	Check(ctx context.Context) (string, error)
}

// newSource builds the configured directory source.
func newSource(c *Config, logger *slog.Logger) (source, error) {
	switch c.Source.Type {
	case "file":
		return file.New(c.Source.File, logger)
	}
	return nil, fmt.Errorf("source type %q is not built in", c.Source.Type)
}

// sourceScope describes what the configured source reads.
func sourceScope(c *Config) string {
	switch c.Source.Type {
	case "file":
		return c.Source.File.Scope()
	}
	return c.Source.Type
}

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
