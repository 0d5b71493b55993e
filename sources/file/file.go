package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dirbridge/dirbridge/sync"
)

// Config is the source's configuration, under source.file.
type Config struct {
	// Path is the file to read. Required.
	Path string `yaml:"path"`
	// Format is yaml, json or csv. Default: from the extension (.yaml,
	// .yml, .json, .csv).
	Format string `yaml:"format"`
}

// DefaultConfig returns the defaults: none, the path is required.
func DefaultConfig() Config { return Config{} }

// Validate returns every problem with the configuration.
func (c Config) Validate() []string {
	var problems []string
	if c.Path == "" {
		problems = append(problems, "path: is required")
	}
	if _, err := c.format(); err != nil && c.Path != "" {
		problems = append(problems, err.Error())
	}
	return problems
}

// Scope describes what the source reads.
func (c Config) Scope() string {
	f, _ := c.format()
	abs, err := filepath.Abs(c.Path)
	if err != nil {
		abs = c.Path
	}
	return "file " + f + " " + abs
}

func (c Config) format() (string, error) {
	f := strings.ToLower(c.Format)
	if f == "" {
		switch strings.ToLower(filepath.Ext(c.Path)) {
		case ".yaml", ".yml":
			f = "yaml"
		case ".json":
			f = "json"
		case ".csv":
			f = "csv"
		default:
			return "", fmt.Errorf("format: cannot tell the format of %q from its extension; set yaml, json or csv", c.Path)
		}
	}
	if f != "yaml" && f != "json" && f != "csv" {
		return "", fmt.Errorf("format: %q is not one of yaml, json, csv", c.Format)
	}
	return f, nil
}

// Source reads one file.
type Source struct {
	path   string
	format string
	logger *slog.Logger
}

var _ sync.Source = (*Source)(nil)

// New returns a source for cfg. It does not read the file yet.
func New(cfg Config, logger *slog.Logger) (*Source, error) {
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("file: %s", strings.Join(problems, "; "))
	}
	f, _ := cfg.format()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{path: cfg.Path, format: f, logger: logger.With("source", "file")}, nil
}

// Snapshot reads the whole file.
func (s *Source) Snapshot(ctx context.Context) (sync.Snapshot, error) {
	data, err := readFile(ctx, s.path)
	if err != nil {
		return sync.Snapshot{}, fmt.Errorf("file: %w", err)
	}
	var snap sync.Snapshot
	if s.format == "csv" {
		snap, err = parseCSV(data)
	} else {
		snap, err = parseYAML(data)
	}
	if err != nil {
		return sync.Snapshot{}, fmt.Errorf("file: %s: %w", s.path, err)
	}
	s.logger.Debug("read directory file", "path", s.path, "users", len(snap.Users), "groups", len(snap.Groups))
	return snap, nil
}

// readFile reads path, giving up when ctx ends: the file may be a pipe or
// sit on a network mount that hangs.
func readFile(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := os.ReadFile(path)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("read %s: %w", path, ctx.Err())
	}
}

// Check reads the file and reports what it holds.
func (s *Source) Check(ctx context.Context) (string, error) {
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("read %s: %d users, %d groups", s.path, len(snap.Users), len(snap.Groups)), nil
}

type fileUser struct {
	ID       string `yaml:"id"`
	Email    string `yaml:"email"`
	Name     string `yaml:"name"`
	Disabled bool   `yaml:"disabled"`
}

type fileGroup struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"`
}

// parseYAML decodes the YAML (or JSON) shape strictly and checks every
// record, reporting all problems at once with their line numbers.
func parseYAML(data []byte) (sync.Snapshot, error) {
	var doc struct {
		Users  []fileUser  `yaml:"users"`
		Groups []fileGroup `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return sync.Snapshot{}, errors.New("the file is empty")
		}
		return sync.Snapshot{}, errors.New(goTypes.Replace(err.Error()))
	}
	// A second pass over the node tree finds each record's line.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return sync.Snapshot{}, err
	}
	userLines, groupLines := recordLines(&root, "users"), recordLines(&root, "groups")

	var snap sync.Snapshot
	var problems []string
	seen := map[string]string{}
	for i, u := range doc.Users {
		ref := fmt.Sprintf("users[%d] (line %d)", i, userLines[i])
		if p := checkID(ref, u.ID, seen); p != "" {
			problems = append(problems, p)
			continue
		}
		snap.Users = append(snap.Users, sync.User{ExternalID: u.ID, Email: u.Email, Name: u.Name, Disabled: u.Disabled, Source: ref})
	}
	seen = map[string]string{}
	for i, g := range doc.Groups {
		ref := fmt.Sprintf("groups[%d] (line %d)", i, groupLines[i])
		if p := checkID(ref, g.ID, seen); p != "" {
			problems = append(problems, p)
			continue
		}
		snap.Groups = append(snap.Groups, sync.Group{ExternalID: g.ID, Name: g.Name, Members: slices.Clone(g.Members), Source: ref})
	}
	if len(problems) > 0 {
		return sync.Snapshot{}, errors.New(strings.Join(problems, "; "))
	}
	return snap, nil
}

// goTypes rewrites the decoder's Go type names into words for the file's
// author.
var goTypes = strings.NewReplacer(
	"into struct { Users []file.fileUser \"yaml:\\\"users\\\"\"; Groups []file.fileGroup \"yaml:\\\"groups\\\"\" }", "where the file's mapping of users and groups belongs",
	"into []file.fileUser", "where the list of users belongs",
	"into []file.fileGroup", "where the list of groups belongs",
	"into file.fileUser", "where a user record belongs",
	"into file.fileGroup", "where a group record belongs",
	"in type file.fileUser", "in a user record",
	"in type file.fileGroup", "in a group record",
	"yaml: unmarshal errors:\n  ", "",
	"cannot unmarshal", "cannot read",
)

// checkID returns the problem with a record's id, or "": it must be set and
// unique. seen maps ids to the records that used them.
func checkID(ref, id string, seen map[string]string) string {
	switch {
	case strings.TrimSpace(id) == "":
		return ref + ": id is required"
	case seen[id] != "":
		return fmt.Sprintf("%s: id %q is already used by %s", ref, id, seen[id])
	}
	seen[id] = ref
	return ""
}

// recordLines returns the line of each item of the top-level sequence key.
func recordLines(root *yaml.Node, key string) map[int]int {
	lines := map[int]int{}
	if len(root.Content) == 0 {
		return lines
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		for j, item := range m.Content[i+1].Content {
			lines[j] = item.Line
		}
	}
	return lines
}
