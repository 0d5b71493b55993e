package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strconv"
)

// addFunc takes one raw resource of a list, found at where, and returns its
// id, or a *RecordError when it cannot be read.
type addFunc func(raw json.RawMessage, where string) (id string, err error)

// list reads every resource of one endpoint ("Users" or "Groups"), filtered
// by query, page after page, and passes each one to add. It returns the
// number of pages read.
//
// Every page must bring resources not read before: a repeated id fails the
// read (ErrRepeatedResource) instead of looping or duplicating, so with the
// stop at totalResults no read can take more pages than totalResults.
// max_pages bounds the reads that give no totalResults.
func (s *Source) list(ctx context.Context, endpoint string, query url.Values, add addFunc) (int, error) {
	seen := &seenIDs{kind: kindOf(endpoint), ids: make(map[string]int)}
	if s.cfg.Paging == PagingCursor {
		return s.listByCursor(ctx, endpoint, query, seen, add)
	}
	return s.listByIndex(ctx, endpoint, query, seen, add)
}

// listByIndex pages with startIndex and count. It advances by the number of
// resources each page returned (servers cap count, and itemsPerPage lies),
// and stops once totalResults resources are read, without asking past the
// end (SCIMMY returns the first page again there), or on an empty page when
// there is no totalResults.
func (s *Source) listByIndex(ctx context.Context, endpoint string, query url.Values, seen *seenIDs, add addFunc) (int, error) {
	start := 1
	for pages := 0; ; pages++ {
		if pages >= s.cfg.MaxPages {
			return pages, fmt.Errorf("%w: %s: %d pages read and the list goes on (max_pages is %d)",
				ErrTooManyPages, endpoint, pages, s.cfg.MaxPages)
		}
		q := url.Values{}
		maps.Copy(q, query)
		q.Set("startIndex", strconv.Itoa(start))
		q.Set("count", strconv.Itoa(s.cfg.PageSize))
		at := fmt.Sprintf("the %s page at startIndex %d", endpoint, start)
		page, err := s.fetchPage(ctx, endpoint, q, at)
		if err != nil {
			return pages, err
		}
		if err := seen.addAll(page.Resources, at, add); err != nil {
			return pages, err
		}
		n := len(page.Resources)
		s.logger.Debug("page read", "endpoint", endpoint, "start_index", start, "resources", n, "total_results", logTotal(page.TotalResults))
		if n == 0 {
			if page.TotalResults != nil && *page.TotalResults > start-1 {
				return pages + 1, fmt.Errorf("%w: %s returned no resources at startIndex %d, but totalResults is %d",
					ErrShortList, endpoint, start, *page.TotalResults)
			}
			return pages + 1, nil
		}
		start += n
		if page.TotalResults != nil && start-1 >= *page.TotalResults {
			return pages + 1, nil
		}
	}
}

// listByCursor pages with cursor and nextCursor (AWS IAM Identity Center):
// the first request carries an empty cursor, and the list ends when a page
// has no nextCursor. A cursor given twice fails the read.
func (s *Source) listByCursor(ctx context.Context, endpoint string, query url.Values, seen *seenIDs, add addFunc) (int, error) {
	cursor := ""
	followed := make(map[string]bool)
	for pages := 0; ; pages++ {
		if pages >= s.cfg.MaxPages {
			return pages, fmt.Errorf("%w: %s: %d pages read and the list goes on (max_pages is %d)",
				ErrTooManyPages, endpoint, pages, s.cfg.MaxPages)
		}
		q := url.Values{}
		maps.Copy(q, query)
		q.Set("cursor", cursor)
		q.Set("count", strconv.Itoa(s.cfg.PageSize))
		at := fmt.Sprintf("%s page %d (cursor %q)", endpoint, pages+1, cursor)
		page, err := s.fetchPage(ctx, endpoint, q, at)
		if err != nil {
			return pages, err
		}
		if err := seen.addAll(page.Resources, at, add); err != nil {
			return pages, err
		}
		s.logger.Debug("page read", "endpoint", endpoint, "page", pages+1, "resources", len(page.Resources))
		next := page.NextCursor
		if next == "" {
			return pages + 1, nil
		}
		if followed[next] || next == cursor {
			return pages + 1, fmt.Errorf("%w: %s: the server gave nextCursor %q again", ErrRepeatedResource, endpoint, next)
		}
		followed[next] = true
		cursor = next
	}
}

// fetchPage gets and decodes one page; at names it in decoding errors.
func (s *Source) fetchPage(ctx context.Context, endpoint string, q url.Values, at string) (listPage, error) {
	if err := ctx.Err(); err != nil {
		return listPage{}, err
	}
	body, err := s.client.get(ctx, "/"+endpoint, q)
	if err != nil {
		return listPage{}, err
	}
	page, err := decodeListResponse(body)
	if err != nil {
		return listPage{}, fmt.Errorf("%s: %w", at, err)
	}
	return page, nil
}

// seenIDs remembers the ids a list has returned, with their order.
type seenIDs struct {
	kind string
	ids  map[string]int
}

// addAll passes each resource of a page to add and fails on an id already
// read.
func (s *seenIDs) addAll(resources []json.RawMessage, at string, add addFunc) error {
	for i, raw := range resources {
		where := fmt.Sprintf("Resources[%d] of %s", i, at)
		id, err := add(raw, where)
		if err != nil {
			return err
		}
		if n, dup := s.ids[id]; dup {
			return fmt.Errorf("%w: %s %q at %s was already read (as %s %d of the list): "+
				"the server ignores or misreads startIndex (try paging: cursor if it supports it), "+
				"or the directory changed during the read",
				ErrRepeatedResource, s.kind, id, where, s.kind, n)
		}
		s.ids[id] = len(s.ids) + 1
	}
	return nil
}

// kindOf names the resources of an endpoint for messages.
func kindOf(endpoint string) string {
	if endpoint == "Groups" {
		return "group"
	}
	return "user"
}

// logTotal renders an optional totalResults for a log line.
func logTotal(total *int) any {
	if total == nil {
		return "none"
	}
	return *total
}
