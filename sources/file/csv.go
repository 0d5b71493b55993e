package file

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

var csvColumns = []string{"id", "email", "name", "disabled", "groups"}

// parseCSV reads users, and groups from their groups column. Every problem
// is reported at once with its line.
func parseCSV(data []byte) (sync.Snapshot, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return sync.Snapshot{}, errors.New("the file is empty")
	}
	if err != nil {
		return sync.Snapshot{}, err
	}
	col := map[string]int{}
	var problems []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case !slices.Contains(csvColumns, h):
			problems = append(problems, fmt.Sprintf("line 1: unknown column %q (known: %s)", h, strings.Join(csvColumns, ", ")))
		case col[h] != 0:
			problems = append(problems, fmt.Sprintf("line 1: column %q appears twice", h))
		default:
			col[h] = i + 1
		}
	}
	for _, req := range []string{"id", "email"} {
		if col[req] == 0 {
			problems = append(problems, fmt.Sprintf("line 1: column %q is required", req))
		}
	}
	if len(problems) > 0 {
		return sync.Snapshot{}, errors.New(strings.Join(problems, "; "))
	}
	field := func(rec []string, name string) string {
		if i := col[name]; i > 0 && i <= len(rec) {
			return strings.TrimSpace(rec[i-1])
		}
		return ""
	}

	var snap sync.Snapshot
	groups := map[string]int{}
	seen := map[string]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, err.Error())
			break
		}
		line, _ := r.FieldPos(0)
		ref := fmt.Sprintf("line %d", line)
		if len(rec) > len(header) {
			problems = append(problems, fmt.Sprintf("%s: %d fields, but the header names %d", ref, len(rec), len(header)))
			continue
		}
		id := field(rec, "id")
		if p := checkID(ref, id, seen); p != "" {
			problems = append(problems, p)
			continue
		}
		disabled, err := parseBool(field(rec, "disabled"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: disabled: %v", ref, err))
			continue
		}
		snap.Users = append(snap.Users, sync.User{ExternalID: id, Email: field(rec, "email"), Name: field(rec, "name"),
			Disabled: disabled, Source: ref})
		for _, g := range strings.Split(field(rec, "groups"), ";") {
			if g = strings.TrimSpace(g); g == "" {
				continue
			}
			i, ok := groups[g]
			if !ok {
				i = len(snap.Groups)
				groups[g] = i
				snap.Groups = append(snap.Groups, sync.Group{ExternalID: g, Name: g, Source: "group " + g})
			}
			snap.Groups[i].Members = append(snap.Groups[i].Members, id)
		}
	}
	if len(problems) > 0 {
		return sync.Snapshot{}, errors.New(strings.Join(problems, "; "))
	}
	return snap, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false", "no", "0", "n":
		return false, nil
	case "true", "yes", "1", "y":
		return true, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}
