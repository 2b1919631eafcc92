package zoom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// allPages GETs a Zoom list at path with the query q, pageSize at a time,
// following next_page_token through every page, and returns the entries
// under key ("meetings", "registrants", …) of all pages. what names the
// list in errors.
func allPages[T any](ctx context.Context, cl *Client, what, path string, q url.Values, key string, pageSize int) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	next := ""
	for {
		page := url.Values{"page_size": {strconv.Itoa(pageSize)}}
		for k, v := range q {
			page[k] = v
		}
		if next != "" {
			page.Set("next_page_token", next)
		}
		var body map[string]json.RawMessage
		if err := cl.request(ctx, http.MethodGet, path+"?"+page.Encode(), nil, &body); err != nil {
			return nil, err
		}
		var entries []T
		if raw, ok := body[key]; ok {
			if err := json.Unmarshal(raw, &entries); err != nil {
				return nil, fmt.Errorf("zoom api %s: reading %s: %w", what, key, err)
			}
		}
		all = append(all, entries...)
		if raw, ok := body["next_page_token"]; !ok || json.Unmarshal(raw, &next) != nil {
			next = ""
		}
		if next == "" {
			return all, nil
		}
		if seen[next] {
			// A token seen before would loop for ever.
			return nil, fmt.Errorf("zoom api %s: next_page_token repeats after %d entries", what, len(all))
		}
		seen[next] = true
	}
}
