package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigError lists every problem found in a configuration file.
type ConfigError struct {
	Path     string
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("configuration %s has %d problem(s):\n  - %s", e.Path, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// LoadConfig reads the configuration at path: defaults first, then the file
// decoded strictly, with ${VAR} expanded in every value from getenv (an
// unset variable is an error; $$ stands for a literal $), then validation.
// Every problem found on the way is reported at once, each with its key
// path. Loading has no side effects.
func LoadConfig(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Path: path, Problems: []string{err.Error()}}
	}
	cfg, problems := ParseConfig(data, getenv)
	if len(problems) > 0 {
		return nil, &ConfigError{Path: path, Problems: problems}
	}
	return cfg, nil
}

// ParseConfig parses and validates a configuration document.
func ParseConfig(data []byte, getenv func(string) (string, bool)) (*Config, []string) {
	cfg := DefaultConfig()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, []string{"the file is empty"}
	}
	doc := root.Content[0]
	var problems []string
	lines := map[int]string{}
	problems = append(problems, walk(doc, reflect.TypeOf(cfg), "", lines, getenv)...)
	// walk has reported unknown keys, so a plain decode of the checked
	// tree is strict, and its errors carry the file's own line numbers.
	if err := doc.Decode(&cfg); err != nil {
		problems = append(problems, typeErrors(err, lines)...)
	}
	// Validate even after structural problems, so that one pass lists
	// everything; skip what only repeats a key already reported.
	reported := map[string]bool{}
	for _, p := range problems {
		key, _, _ := strings.Cut(p, ":")
		reported[key] = true
	}
	for _, p := range cfg.Validate() {
		key, _, _ := strings.Cut(p, ":")
		key, _, _ = strings.Cut(key, " ")
		if !reported[key] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &cfg, nil
}

var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// walk checks n against the type t: every mapping key must be a field of the
// struct, and every scalar gets ${VAR} expanded. It records the key path of
// each value's line in lines, for type errors.
func walk(n *yaml.Node, t reflect.Type, path string, lines map[int]string, getenv func(string) (string, bool)) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var problems []string
	switch n.Kind {
	case yaml.ScalarNode:
		lines[n.Line] = path
		if strings.Contains(n.Value, "$") {
			v, ps := expand(n.Value, path, n.Line, getenv)
			n.Value = v
			problems = append(problems, ps...)
			if n.Style == 0 {
				n.Tag = "" // resolve the expanded value afresh: ${PORT} may be a number
			}
		}
	case yaml.MappingNode:
		if t.Kind() == reflect.Map {
			for i := 0; i+1 < len(n.Content); i += 2 {
				problems = append(problems, walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), lines, getenv)...)
			}
			break
		}
		if t.Kind() != reflect.Struct {
			break // the decoder reports the type mismatch
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: unknown key (line %d)%s", join(path, key.Value), key.Line, suggest(key.Value, fields)))
				continue
			}
			problems = append(problems, walk(val, ft, join(path, key.Value), lines, getenv)...)
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, item := range n.Content {
				problems = append(problems, walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines, getenv)...)
			}
		}
	case yaml.AliasNode:
		problems = append(problems, fmt.Sprintf("%s: YAML aliases are not supported (line %d)", path, n.Line))
	}
	return problems
}

// expand replaces ${VAR} in s.
func expand(s, path string, line int, getenv func(string) (string, bool)) (string, []string) {
	var problems []string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		v, ok := getenv(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: environment variable %s is not set (line %d)", path, name, line))
		}
		return v
	})
	return out, problems
}

// yamlFields maps a struct's yaml keys to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// suggest names the closest known key, if one is close.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var goType = regexp.MustCompile(` into ([a-z]\w*\.[A-Z]\w*)$`)

var lineRef = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeErrors turns the decoder's errors into problems that name the key.
func typeErrors(err error, lines map[int]string) []string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var problems []string
	for _, msg := range te.Errors {
		m := lineRef.FindStringSubmatch(msg)
		if m == nil {
			problems = append(problems, msg)
			continue
		}
		var line int
		fmt.Sscan(m[1], &line)
		detail := strings.ReplaceAll(m[2], "cannot unmarshal ", "cannot read ")
		if t := goType.FindStringSubmatch(detail); t != nil && t[1] != "time.Duration" {
			detail = strings.TrimSuffix(detail, t[0]) + " where a mapping belongs"
		}
		if key := lines[line]; key != "" {
			problems = append(problems, fmt.Sprintf("%s: %s (line %d)", key, detail, line))
		} else {
			problems = append(problems, msg)
		}
	}
	return problems
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
