package main

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/google/go-cmp/cmp"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

const validConfig = `
source:
  type: file
  file: {path: directory.yaml}
bitwarden:
  server: https://vault.example.com
  organization_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
  client_id: organization.3fa85f64-5717-4562-b3fc-2c963f66afa6
  client_secret: ${BW_CLIENT_SECRET}
`

func TestParseConfig_Valid(t *testing.T) {
	cfg, problems := ParseConfig([]byte(validConfig+"  timeout: 45s\nsafety:\n  max_deletes: ${MAXDEL}\n"),
		env(map[string]string{"BW_CLIENT_SECRET": "s3cr$t", "MAXDEL": "25"}))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if cfg.Bitwarden.ClientSecret != "s3cr$t" {
		t.Errorf("client_secret = %q", cfg.Bitwarden.ClientSecret)
	}
	if cfg.Bitwarden.Timeout != 45*time.Second {
		t.Errorf("timeout = %v", cfg.Bitwarden.Timeout)
	}
	if cfg.Safety.MaxDeletes != 25 || cfg.Safety.MaxDeletesPercent != 10 {
		t.Errorf("safety = %+v, want max_deletes from ${MAXDEL} and the default percent", cfg.Safety)
	}
	if cfg.Sync.OnMissing != "revoke" || cfg.Log.Level != "info" || cfg.Log.Format != "text" {
		t.Errorf("defaults not applied: %+v %+v", cfg.Sync, cfg.Log)
	}
}

func TestParseConfig_SecretsThatLookLikeNumbersStayStrings(t *testing.T) {
	cfg, problems := ParseConfig([]byte(validConfig), env(map[string]string{"BW_CLIENT_SECRET": "12345"}))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if cfg.Bitwarden.ClientSecret != "12345" {
		t.Errorf("client_secret = %q", cfg.Bitwarden.ClientSecret)
	}
}

func TestParseConfig_DollarEscape(t *testing.T) {
	cfg, problems := ParseConfig([]byte(strings.Replace(validConfig, "${BW_CLIENT_SECRET}", "a$${B}c", 1)), env(nil))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if cfg.Bitwarden.ClientSecret != "a${B}c" {
		t.Errorf("client_secret = %q, want a${B}c", cfg.Bitwarden.ClientSecret)
	}
}

func TestParseConfig_ReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "UnknownKeysUnsetVariablesBadTypesAndBadValues",
			yaml: `
source:
  type: file
  fle: {path: x.yaml}
bitwarden:
  server: http://127.0.0.1:9
  organization_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
  client_id: organization.3fa85f64-5717-4562-b3fc-2c963f66afa6
  client_secret: ${NOPE}
  timeout: forever
sync:
  on_missing: delete
  colour: blue
safety:
  max_deletes_percent: 120
log: {level: loud}
`,
			want: []string{
				`source.fle: unknown key (line 4); did you mean "file"?`,
				"bitwarden.client_secret: environment variable NOPE is not set (line 9)",
				"sync.colour: unknown key (line 13)",
				"bitwarden.timeout: cannot read !!str `forever` into time.Duration (line 10)",
				"source.file.path: is required",
				`sync.on_missing: "delete" is not one of revoke, remove, ignore`,
				"safety.max_deletes_percent: must be between 0 (off) and 100",
				`log.level: "loud" is not one of debug, info, warn, error`,
			},
		},
		{
			name: "MissingSourceType",
			yaml: strings.Replace(validConfig, "type: file", "type: ftp", 1),
			want: []string{`source.type: "ftp" is not one of ` + strings.Join(sourceNames(), ", ")},
		},
		{
			name: "Empty",
			yaml: "",
			want: []string{"the file is empty"},
		},
		{
			name: "SyntaxError",
			yaml: "source: [\n",
			want: []string{"line 1: did not find expected node content"},
		},
		{
			name: "WrongShape",
			yaml: "source: file\n",
			want: []string{"source: cannot read !!str `file` where a mapping belongs (line 1)", "source.type: is required (one of " + strings.Join(sourceNames(), ", ") + ")"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := ParseConfig([]byte(tt.yaml), env(map[string]string{"BW_CLIENT_SECRET": "x"}))
			var relevant []string
			for _, p := range problems {
				if !strings.HasPrefix(p, "bitwarden.") || strings.Contains(tt.yaml, "NOPE") {
					relevant = append(relevant, p)
				}
			}
			if diff := cmp.Diff(tt.want, relevant); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nall: %q", diff, problems)
			}
		})
	}
}

func TestConfigExample_IsValidAndComplete(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	anyVar := func(string) (string, bool) { return "from-the-environment", true }
	_, problems := ParseConfig(data, anyVar)
	for _, p := range problems {
		t.Errorf("config.example.yaml: %s", p)
	}
	// Every key the configuration knows appears in the example.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	var collect func(n *yaml.Node, path string)
	collect = func(n *yaml.Node, path string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			present[p] = true
			collect(n.Content[i+1], p)
		}
	}
	collect(root.Content[0], "")
	var missing []string
	var check func(t reflect.Type, path string)
	check = func(t reflect.Type, path string) {
		for name, ft := range yamlFields(t) {
			p := join(path, name)
			switch {
			case !present[p]:
				missing = append(missing, p)
			case ft.Kind() == reflect.Struct:
				check(ft, p)
			}
		}
	}
	check(reflect.TypeOf(Config{}), "")
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("config.example.yaml does not document %s", k)
	}
}
