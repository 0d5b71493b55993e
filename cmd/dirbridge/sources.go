package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dirbridge/dirbridge/sources/file"
	"github.com/dirbridge/dirbridge/sources/jumpcloud"
	ldapsource "github.com/dirbridge/dirbridge/sources/ldap"
	"github.com/dirbridge/dirbridge/sources/scim"
	"github.com/dirbridge/dirbridge/sync"
)

// SourceConfig picks the directory and holds each kind's settings.
type SourceConfig struct {
	// Type is file, ldap, jumpcloud or scim. Required.
	Type string `yaml:"type"`
	// File configures source.type file.
	File file.Config `yaml:"file"`
	// LDAP configures source.type ldap.
	LDAP ldapsource.Config `yaml:"ldap"`
	// JumpCloud configures source.type jumpcloud.
	JumpCloud jumpcloud.Config `yaml:"jumpcloud"`
	// SCIM configures source.type scim.
	SCIM scim.Config `yaml:"scim"`
}

func defaultSourceConfig() SourceConfig {
	return SourceConfig{File: file.DefaultConfig(), LDAP: ldapsource.DefaultConfig(), JumpCloud: jumpcloud.DefaultConfig(), SCIM: scim.DefaultConfig()}
}

// source is what dirbridge needs of a directory: a snapshot, and a cheap
// probe for validate.
type source interface {
	sync.Source
	Check(ctx context.Context) (string, error)
}

// sourceKind ties one source type's configuration block to its package.
type sourceKind struct {
	validate func(c *SourceConfig) []string
	scope    func(c *SourceConfig) string
	build    func(c *SourceConfig, logger *slog.Logger) (source, error)
}

// sourceConfig is what every source package's Config provides.
type sourceConfig interface {
	Validate() []string
	Scope() string
}

// kind builds the sourceKind of a package from its block and constructor.
func kind[C sourceConfig, S source](block func(*SourceConfig) C, build func(C, *slog.Logger) (S, error)) sourceKind {
	return sourceKind{
		validate: func(c *SourceConfig) []string { return block(c).Validate() },
		scope:    func(c *SourceConfig) string { return block(c).Scope() },
		build: func(c *SourceConfig, logger *slog.Logger) (source, error) {
			return build(block(c), logger)
		},
	}
}

// sourceKinds lists the built-in directory types, in the order the docs
// give them.
var sourceKinds = []struct {
	name string
	sourceKind
}{
	{"file", kind(func(c *SourceConfig) file.Config { return c.File }, file.New)},
	{"ldap", kind(func(c *SourceConfig) ldapsource.Config { return c.LDAP }, ldapsource.New)},
	{"jumpcloud", kind(func(c *SourceConfig) jumpcloud.Config { return c.JumpCloud }, jumpcloud.New)},
	{"scim", kind(func(c *SourceConfig) scim.Config { return c.SCIM }, scim.New)},
}

func lookupSource(name string) (sourceKind, bool) {
	for _, k := range sourceKinds {
		if k.name == name {
			return k.sourceKind, true
		}
	}
	return sourceKind{}, false
}

func sourceNames() []string {
	var names []string
	for _, k := range sourceKinds {
		names = append(names, k.name)
	}
	return names
}

// newSource builds the configured directory source.
func newSource(c *Config, logger *slog.Logger) (source, error) {
	k, ok := lookupSource(c.Source.Type)
	if !ok {
		return nil, fmt.Errorf("source type %q is not built in", c.Source.Type)
	}
	return k.build(&c.Source, logger)
}

// sourceScope describes what the configured source reads, for the scope
// guard: the type and everything that decides which entries are read.
func sourceScope(c *Config) string {
	k, ok := lookupSource(c.Source.Type)
	if !ok {
		return c.Source.Type
	}
	return c.Source.Type + "\n" + k.scope(&c.Source)
}
