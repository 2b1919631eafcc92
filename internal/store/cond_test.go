package store

import (
	"reflect"
	"testing"
)

func TestCondNumbersItsArgumentsAfterTheBase(t *testing.T) {
	var c cond
	c.and("a.status = ?", "applied")
	c.in("a.id", []int64{7, 8})
	c.and("(a.name LIKE ? OR a.email LIKE ?)", "%x%", "%x%")
	got, args := c.join("a.org_id = $1 AND a.event_id = $2", int64(1), int64(2))
	want := "a.org_id = $1 AND a.event_id = $2 AND a.status = $3 AND a.id IN ($4, $5) AND (a.name LIKE $6 OR a.email LIKE $7)"
	if got != want {
		t.Errorf("join:\n got %s\nwant %s", got, want)
	}
	if wantArgs := []any{int64(1), int64(2), "applied", int64(7), int64(8), "%x%", "%x%"}; !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("args = %v, want %v", args, wantArgs)
	}
	var none cond
	if got, args := none.join("a.id = $1", 5); got != "a.id = $1" || len(args) != 1 {
		t.Errorf("empty cond: %q %v", got, args)
	}
}
