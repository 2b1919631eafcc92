package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestMigrationsGiveOneSchema: the SQLite and PostgreSQL migrations make
// the same tables, with the same columns, the same NOT NULLs and the same
// indexes (by name). The types are each dialect's own; River's tables are
// River's and the migration tool's version table is goose's.
func TestMigrationsGiveOneSchema(t *testing.T) {
	t.Parallel()
	lite := schemaOf(t, open(t, testdb.SQLite(t)))
	pg := schemaOf(t, open(t, testdb.Postgres(t)))
	if len(lite) < 20 {
		t.Fatalf("SQLite's schema has %d lines, too few to be read right:\n%s", len(lite), strings.Join(lite, "\n"))
	}
	t.Logf("%d columns and indexes on SQLite, %d on PostgreSQL", len(lite), len(pg))
	for _, l := range lite {
		if !slices.Contains(pg, l) {
			t.Errorf("only on SQLite: %s", l)
		}
	}
	for _, l := range pg {
		if !slices.Contains(lite, l) {
			t.Errorf("only on PostgreSQL: %s", l)
		}
	}
}

// schemaOf lists a migrated database's columns ("column table.name
// notnull=…") and explicitly made indexes ("index name"), sorted.
func schemaOf(t *testing.T, st *store.Store) []string {
	t.Helper()
	ctx := context.Background()
	var columns, indexes string
	if st.Dialect() == store.Postgres {
		columns = `SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns
			WHERE table_schema = current_schema()`
		indexes = `SELECT indexname FROM pg_indexes i WHERE schemaname = current_schema()
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`
	} else {
		columns = `SELECT m.name, p.name, p."notnull" <> 0 OR p.pk > 0 FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table'`
		indexes = `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`
	}
	var out []string
	add := func(q string, scan func(*sql.Rows) (string, error)) {
		rows, err := st.WriteDB().QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scan(rows)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(l, "river_") && !strings.Contains(l, "goose_") && !strings.Contains(l, "sqlite_") {
				out = append(out, l)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	add(columns, func(r *sql.Rows) (string, error) {
		var table, column string
		var notNull bool
		err := r.Scan(&table, &column, &notNull)
		return fmt.Sprintf("column %s.%s notnull=%t", table, column, notNull), err
	})
	add(indexes, func(r *sql.Rows) (string, error) {
		var name string
		err := r.Scan(&name)
		return "index " + name, err
	})
	slices.Sort(out)
	return out
}
