package jumpcloud

import (
	"context"
	"log/slog"
)

// maxPasses bounds how often a list that changed while it was read is read.
// Offset paging skips a record when an earlier one is deleted between two
// pages, and the v2 lists have no count that would show it: a list that
// spans pages is trusted only when a read proves itself consistent or two
// reads agree.
const maxPasses = 3

// listRead is one read of a list from its start to its end, records already
// seen in it dropped.
type listRead[T any] struct {
	items []T
	// pages counts the non-empty pages; dups the records dropped.
	pages, dups int
	// settled is true when the read alone shows the list did not change
	// under it: one page, or an unchanged totalCount, and no duplicate.
	settled bool
}

// readStable calls read until a read is settled or agrees with the one before
// it (same ids, no duplicates), at most maxPasses times, and returns that
// read's records. When no read settles, it returns every record seen, the
// latest version of each, and logs a warning. attrs name the list in logs.
func readStable[T any](ctx context.Context, logger *slog.Logger, read func(context.Context) (listRead[T], error),
	id func(T) string, attrs ...any) ([]T, error) {
	var (
		seen union[T]
		prev map[string]bool
	)
	for pass := 1; ; pass++ {
		r, err := read(ctx)
		if err != nil {
			return nil, err
		}
		ids := make(map[string]bool, len(r.items))
		for _, it := range r.items {
			ids[id(it)] = true
			seen.add(id(it), it)
		}
		log := append([]any{"pass", pass, "pages", r.pages, "records", len(r.items), "duplicates", r.dups}, attrs...)
		switch {
		case r.settled || (r.dups == 0 && sameSet(prev, ids)):
			if pass > 1 {
				logger.Info("list changed while it was read; a later read is consistent", log...)
			}
			return r.items, nil
		case pass == maxPasses:
			logger.Warn("list kept changing while it was read; using every record seen", append(log, "seen", len(seen.items))...)
			return seen.items, nil
		}
		logger.Debug("reading the list again to confirm it", log...)
		prev = ids
	}
}

// union collects records by id, keeping the first position and the latest
// version of each.
type union[T any] struct {
	items []T
	index map[string]int
}

func (u *union[T]) add(id string, item T) {
	if u.index == nil {
		u.index = make(map[string]int)
	}
	if i, ok := u.index[id]; ok {
		u.items[i] = item
		return
	}
	u.index[id] = len(u.items)
	u.items = append(u.items, item)
}

func sameSet(a, b map[string]bool) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// nextStale counts pages in a row that held records but none new.
func nextStale(stale, fresh, records int) int {
	if fresh == 0 && records > 0 {
		return stale + 1
	}
	return 0
}
