package stripesim

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Stripe's requests are application/x-www-form-urlencoded with bracketed
// keys: line_items[0][price_data][currency]=jpy, metadata[app]=42,
// expand[]=payment_intent. parseForm turns them into a tree of
// map[string]any, []any and string, as Stripe reads them.

// params is a decoded request body or query.
type params map[string]any

func parseForm(v url.Values) (params, error) {
	root := map[string]any{}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path, err := splitKey(k)
		if err != nil {
			return nil, err
		}
		for _, val := range v[k] {
			if err := setPath(root, path, val, k); err != nil {
				return nil, err
			}
		}
	}
	out, err := listify(root, "")
	if err != nil {
		return nil, err
	}
	return params(out.(map[string]any)), nil
}

// splitKey: "a[b][0][]" → ["a", "b", "0", ""].
func splitKey(k string) ([]string, error) {
	i := strings.IndexByte(k, '[')
	if i < 0 {
		return []string{k}, nil
	}
	path := []string{k[:i]}
	rest := k[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("invalid parameter name: %s", k)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, fmt.Errorf("invalid parameter name: %s", k)
		}
		path = append(path, rest[1:j])
		rest = rest[j+1:]
	}
	if path[0] == "" {
		return nil, fmt.Errorf("invalid parameter name: %s", k)
	}
	return path, nil
}

// appendKey marks an element added by "[]"; listify turns it into a slot.
const appendKey = "\x00append"

func setPath(node map[string]any, path []string, val, full string) error {
	for i, p := range path {
		last := i == len(path)-1
		if p == "" {
			// "[]": a new element each time it is given.
			p = appendKey + strconv.Itoa(len(node))
		}
		if last {
			if _, ok := node[p].(map[string]any); ok {
				return fmt.Errorf("invalid parameter: %s is both a value and a hash", full)
			}
			node[p] = val
			return nil
		}
		child, ok := node[p]
		if !ok {
			m := map[string]any{}
			node[p] = m
			node = m
			continue
		}
		m, ok := child.(map[string]any)
		if !ok {
			return fmt.Errorf("invalid parameter: %s is both a value and a hash", full)
		}
		node = m
	}
	return nil
}

// listify turns maps whose keys are all indexes (or "[]" slots) into
// slices, in index order.
func listify(v any, name string) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	allIdx := len(m) > 0
	type kv struct {
		idx int
		v   any
	}
	var items []kv
	for k, child := range m {
		c, err := listify(child, name+"["+k+"]")
		if err != nil {
			return nil, err
		}
		m[k] = c
		if strings.HasPrefix(k, appendKey) {
			n, _ := strconv.Atoi(strings.TrimPrefix(k, appendKey))
			items = append(items, kv{n, c})
			continue
		}
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 {
			allIdx = false
			continue
		}
		items = append(items, kv{n, c})
	}
	if !allIdx {
		return m, nil
	}
	sort.Slice(items, func(i, j int) bool { return items[i].idx < items[j].idx })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, nil
}

// str returns a string parameter ("" when absent); ok is false when it is
// there but not a string.
func (p params) str(key string) (string, bool) {
	v, there := p[key]
	if !there {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// sub returns a hash parameter (nil when absent).
func (p params) sub(key string) (params, bool) {
	v, there := p[key]
	if !there {
		return nil, true
	}
	switch m := v.(type) {
	case map[string]any:
		return params(m), true
	case string:
		if m == "" { // Stripe: an empty string unsets a hash
			return nil, true
		}
	}
	return nil, false
}

// list returns an array parameter (nil when absent).
func (p params) list(key string) ([]any, bool) {
	v, there := p[key]
	if !there {
		return nil, true
	}
	switch l := v.(type) {
	case []any:
		return l, true
	case string:
		if l == "" {
			return nil, true
		}
	}
	return nil, false
}

// canonical is a stable text of the parameters, to compare the requests
// of one Idempotency-Key.
func (p params) canonical() string {
	var b strings.Builder
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(prefix+"["+k+"]", x[k])
			}
		case params:
			walk(prefix, map[string]any(x))
		case []any:
			for i, e := range x {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		default:
			fmt.Fprintf(&b, "%s=%v\n", prefix, x)
		}
	}
	walk("", p)
	return b.String()
}
