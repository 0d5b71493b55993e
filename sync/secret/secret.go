// Package secret resolves the secrets of a configuration, each given either
// inline (usually as ${VAR}, expanded by the config loader) or in a file
// (for systemd's LoadCredential= or a mounted secret), never both.
package secret

import (
	"fmt"
	"os"
	"strings"
)

// Check returns the problem with a secret's two keys, or "" when exactly one
// of them is set. key is the inline key's path, such as
// "bitwarden.client_secret"; the file key is key + "_file".
func Check(key, inline, file string, required bool) string {
	switch {
	case inline != "" && file != "":
		return fmt.Sprintf("%s and %s_file are both set; give only one", key, key)
	case required && inline == "" && file == "":
		return fmt.Sprintf("%s (or %s_file) is required", key, key)
	}
	return ""
}

// Resolve returns the secret: inline when set, else the content of file with
// surrounding white space trimmed. An empty file is an error.
func Resolve(key, inline, file string) (string, error) {
	if inline != "" || file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: %w", key, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s_file: %s is empty", key, file)
	}
	return s, nil
}
