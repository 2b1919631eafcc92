package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/zoompolicy"
)

// stateColumns are the columns that hold a typed state of the domain, with
// the values their type declares. The SQL may name these values as
// literals (a partial index depends on want = 'present'); the literals must
// be among them.
var stateColumns = map[string][]string{
	"zoom_connections.status":        values(zoompolicy.ConnStatuses()),
	"zoom_connections.relink_reason": values(zoompolicy.RelinkReasons()),
	"zoom_meetings.want":             values(zoompolicy.MeetingWants()),
	"zoom_meetings.zoom_state":       values(zoompolicy.ZoomSides()),
	"zoom_registrants.status":        values(zoompolicy.RegistrantStatuses()),
	"zoom_webhook_events.status":     values(zoompolicy.WebhookStatuses()),
	"zoom_attendance.matched_by":     values(zoompolicy.MatchedBys()),
	"outbox.status":                  values(event.MailStatuses()),
	"payments.status":                values(payment.Statuses()),
	"refunds.status":                 values(payment.RefundStatuses()),
	"stripe_webhook_events.status":   values(zoompolicy.WebhookStatuses()),
	"stripe_connections.status":      values(store.StripeConnStatuses()),
	// package event declares no list of these (yet)
	"applications.status": values([]event.ApplicationStatus{event.Applied, event.Waitlisted, event.Cancelled}),
	"events.status":       values([]event.Status{event.StatusDraft, event.StatusPublished}),
}

// stateNamed are the column names that hold a state: every such column of
// the schema is one of stateColumns.
var stateNamed = regexp.MustCompile(`^(status|want|zoom_state|matched_by|relink_reason|.*_status|.*_state)$`)

func values[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestStateLiterals: every literal the store's SQL (its Go source and its
// migrations, on both databases) compares with, assigns to, inserts into or
// defaults a state column is a value of the column's domain type.
func TestStateLiterals(t *testing.T) {
	schema := readSchema(t)
	for col := range stateColumns {
		table, name, _ := strings.Cut(col, ".")
		if !schema.has(table, name) {
			t.Errorf("state column %s is not in the schema", col)
		}
	}
	for _, table := range schema.tableNames() {
		for _, name := range schema.columns[table] {
			col := schema.canonical(table) + "." + name
			if stateNamed.MatchString(name) && stateColumns[col] == nil {
				t.Errorf("%s holds a state: add it to stateColumns with its domain type's values", col)
			}
		}
	}

	var stmts []statement
	stmts = append(stmts, goStatements(t, schema)...)
	for _, dialect := range []string{"sqlite", "postgres"} {
		stmts = append(stmts, migrationStatements(t, dialect)...)
	}
	aliases := map[string]map[string]bool{} // alias → tables it names somewhere
	for _, s := range stmts {
		for alias, table := range schema.aliases(s.sql) {
			if aliases[alias] == nil {
				aliases[alias] = map[string]bool{}
			}
			aliases[alias][table] = true
		}
	}

	seen := map[string]int{}
	checked := 0
	for _, s := range stmts {
		for _, u := range stateLiteralUses(s.sql) {
			if strings.Contains(u.literal, dynamic) {
				continue
			}
			tables := schema.tablesOf(s.sql, u.qualifier, u.column, aliases)
			if len(tables) == 0 {
				continue // not a state column (or a column of no table we know)
			}
			ok := false
			for _, table := range tables {
				col := schema.canonical(table) + "." + u.column
				want, isState := stateColumns[col]
				if !isState {
					ok = true
					continue
				}
				seen[col]++
				if slices.Contains(want, u.literal) {
					ok = true
				}
			}
			checked++
			if !ok {
				t.Errorf("%s: %s = '%s': not a value of %s (%v)", s.where, qualified(u), u.literal,
					strings.Join(tables, " or "), valuesOf(schema, tables, u.column))
			}
		}
	}
	for col := range stateColumns {
		if seen[col] == 0 {
			t.Errorf("no literal of %s found: does the test still read the SQL?", col)
		}
	}
	if checked < 50 {
		t.Errorf("only %d literals checked: does the test still read the SQL?", checked)
	}
}

func qualified(u literalUse) string {
	if u.qualifier == "" {
		return u.column
	}
	return u.qualifier + "." + u.column
}

func valuesOf(sc *schemaInfo, tables []string, column string) [][]string {
	var out [][]string
	for _, table := range tables {
		out = append(out, stateColumns[sc.canonical(table)+"."+column])
	}
	return out
}

// dynamic stands for an operand of a concatenation that is not a constant:
// a literal made with it (status = '`+string(from)+`') is not checked.
const dynamic = " \x00 "

// statement is one piece of SQL and where it is written.
type statement struct {
	where, sql string
}

// schemaInfo is the tables and columns the migrations create.
type schemaInfo struct {
	columns map[string][]string
	renamed map[string]string // a table rebuilt under another name → the table it becomes
}

func (sc *schemaInfo) has(table, column string) bool {
	return slices.Contains(sc.columns[table], column)
}

func (sc *schemaInfo) canonical(table string) string {
	for range 10 {
		to, ok := sc.renamed[table]
		if !ok {
			break
		}
		table = to
	}
	return table
}

func (sc *schemaInfo) tableNames() []string {
	var out []string
	for t := range sc.columns {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

var (
	createTable = regexp.MustCompile(`(?is)CREATE TABLE (?:IF NOT EXISTS )?(\w+) \((.*?)\n\);`)
	addColumn   = regexp.MustCompile(`(?i)ALTER TABLE (\w+) ADD COLUMN (\w+)`)
	renameTable = regexp.MustCompile(`(?i)ALTER TABLE (\w+) RENAME TO (\w+)`)
	columnLine  = regexp.MustCompile(`^\s*([a-z_][a-z0-9_]*)\s+[A-Za-z]`)
)

func readSchema(t *testing.T) *schemaInfo {
	t.Helper()
	sc := &schemaInfo{columns: map[string][]string{}, renamed: map[string]string{}}
	add := func(table, column string) {
		if !sc.has(table, column) {
			sc.columns[table] = append(sc.columns[table], column)
		}
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, f := range migrationFiles(t, dialect) {
			text := string(readFile(t, f))
			for _, m := range createTable.FindAllStringSubmatch(text, -1) {
				for _, line := range strings.Split(m[2], "\n") {
					if c := columnLine.FindStringSubmatch(line); c != nil {
						add(m[1], c[1])
					}
				}
			}
			for _, m := range addColumn.FindAllStringSubmatch(text, -1) {
				add(m[1], m[2])
			}
			for _, m := range renameTable.FindAllStringSubmatch(text, -1) {
				sc.renamed[m[1]] = m[2]
			}
		}
	}
	if len(sc.columns["zoom_meetings"]) == 0 || len(sc.columns["outbox"]) == 0 {
		t.Fatalf("no schema read from the migrations: %v", sc.tableNames())
	}
	return sc
}

// tableRef finds the tables a statement names, with their aliases.
var tableRef = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|UPDATE|INTO|TABLE|ON)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?`)

var sqlWords = map[string]bool{"where": true, "set": true, "join": true, "left": true, "inner": true, "on": true,
	"using": true, "order": true, "group": true, "limit": true, "values": true, "select": true, "and": true,
	"or": true, "returning": true, "as": true, "do": true, "union": true, "cross": true, "natural": true}

// tablesIn are the schema's tables a statement names.
func (sc *schemaInfo) tablesIn(sql string) []string {
	var out []string
	for _, m := range tableRef.FindAllStringSubmatch(sql, -1) {
		if _, ok := sc.columns[m[1]]; ok && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// aliases are the statement's table aliases.
func (sc *schemaInfo) aliases(sql string) map[string]string {
	out := map[string]string{}
	for _, m := range tableRef.FindAllStringSubmatch(sql, -1) {
		if _, ok := sc.columns[m[1]]; ok && m[2] != "" && !sqlWords[strings.ToLower(m[2])] {
			out[m[2]] = m[1]
		}
	}
	return out
}

// tablesOf are the tables column (qualified by qualifier, or not) may be of
// in the statement: the aliased or named table; else the statement's tables
// that have the column; else, for a piece of SQL that names no such table
// (a condition written apart), every table that has it.
func (sc *schemaInfo) tablesOf(sql, qualifier, column string, aliases map[string]map[string]bool) []string {
	var candidates []string
	switch {
	case qualifier != "" && sc.columns[qualifier] != nil:
		candidates = []string{qualifier}
	case qualifier != "":
		if table, ok := sc.aliases(sql)[qualifier]; ok {
			candidates = []string{table}
		} else {
			for table := range aliases[qualifier] {
				candidates = append(candidates, table)
			}
		}
	default:
		candidates = sc.tablesIn(sql)
	}
	var out []string
	for _, table := range candidates {
		if sc.has(table, column) {
			out = append(out, table)
		}
	}
	if len(out) == 0 && qualifier == "" {
		for _, table := range sc.tableNames() {
			if sc.has(table, column) {
				out = append(out, table)
			}
		}
	}
	sort.Strings(out)
	return out
}

// literalUse is a string literal a statement compares with, assigns to,
// inserts into or defaults a column.
type literalUse struct {
	qualifier, column, literal string
}

var (
	lit         = `'((?:[^']|'')*)'`
	compared    = regexp.MustCompile(`(?i)\b(?:(\w+)\.)?(\w+)\s*(?:=|<>|!=)\s*` + lit)
	comparedRev = regexp.MustCompile(`(?i)` + lit + `\s*(?:=|<>|!=)\s*(?:(\w+)\.)?(\w+)\b`)
	inList      = regexp.MustCompile(`(?i)\b(?:(\w+)\.)?(\w+)\s+(?:NOT\s+)?IN\s*\(\s*('(?:[^)]*))\)`)
	caseAssign  = regexp.MustCompile(`(?is)\b(?:(\w+)\.)?(\w+)\s*=\s*CASE\b(.*?)\bEND\b`)
	caseResult  = regexp.MustCompile(`(?i)\b(?:THEN|ELSE)\s+` + lit)
	defaulted   = regexp.MustCompile(`(?im)^\s*(?:ALTER TABLE \w+ ADD COLUMN\s+)?(\w+)\s+TEXT\b[^,\n]*?\bDEFAULT\s+` + lit)
	insert      = regexp.MustCompile(`(?is)\bINSERT INTO (\w+)\s*\(([^)]*)\)\s*(?:VALUES\s*\((.*?)\)\s*(?:ON CONFLICT|RETURNING|$)|SELECT\s+(.*?)\s+FROM\b)`)
	anyLiteral  = regexp.MustCompile(lit)
)

func unquoteSQL(s string) string { return strings.ReplaceAll(s, "''", "'") }

// stateLiteralUses are the literals of a statement set against a column.
func stateLiteralUses(sql string) []literalUse {
	var out []literalUse
	for _, m := range compared.FindAllStringSubmatch(sql, -1) {
		out = append(out, literalUse{m[1], m[2], unquoteSQL(m[3])})
	}
	for _, m := range comparedRev.FindAllStringSubmatch(sql, -1) {
		out = append(out, literalUse{m[2], m[3], unquoteSQL(m[1])})
	}
	for _, m := range inList.FindAllStringSubmatch(sql, -1) {
		for _, l := range anyLiteral.FindAllStringSubmatch(m[3], -1) {
			out = append(out, literalUse{m[1], m[2], unquoteSQL(l[1])})
		}
	}
	for _, m := range caseAssign.FindAllStringSubmatch(sql, -1) {
		for _, l := range caseResult.FindAllStringSubmatch(m[3], -1) {
			out = append(out, literalUse{m[1], m[2], unquoteSQL(l[1])})
		}
	}
	for _, m := range defaulted.FindAllStringSubmatch(sql, -1) {
		out = append(out, literalUse{"", m[1], unquoteSQL(m[2])})
	}
	for _, m := range insert.FindAllStringSubmatch(sql, -1) {
		cols := splitTop(m[2])
		vals := splitTop(m[3] + m[4])
		if len(cols) != len(vals) {
			continue
		}
		for i, v := range vals {
			if l := anyLiteral.FindStringSubmatch(v); l != nil && l[0] == v {
				out = append(out, literalUse{m[1], cols[i], unquoteSQL(l[1])})
			}
		}
	}
	return out
}

// splitTop splits a list at its top-level commas, outside parentheses and
// quotes, and trims each item.
func splitTop(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
		case quoted:
		case r == '(':
			depth++
		case r == ')':
			depth--
		case r == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// goStatements are the SQL of the store's Go source: each string
// expression as written, with its concatenations and the package's string
// constants and variables put together (other operands become dynamic).
func goStatements(t *testing.T, sc *schemaInfo) []statement {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	named := map[string]ast.Expr{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			if g, ok := d.(*ast.GenDecl); ok && (g.Tok == token.CONST || g.Tok == token.VAR) {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							named[name.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	var eval func(e ast.Expr, depth int) string
	eval = func(e ast.Expr, depth int) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				if err == nil {
					return s
				}
			}
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				return eval(e.X, depth) + eval(e.Y, depth)
			}
		case *ast.ParenExpr:
			return eval(e.X, depth)
		case *ast.Ident:
			if v, ok := named[e.Name]; ok && depth < 10 {
				return eval(v, depth+1)
			}
		}
		return dynamic
	}
	var out []statement
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op != token.ADD {
					return true
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
			default:
				return true
			}
			s := eval(n.(ast.Expr), 0)
			if len(sc.tablesIn(s)) > 0 || compared.MatchString(s) || inList.MatchString(s) {
				out = append(out, statement{fset.Position(n.Pos()).String(), s})
			}
			return true // its parts are checked again alone: no harm
		})
	}
	return out
}

func migrationFiles(t *testing.T, dialect string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", dialect, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s migrations: %v", dialect, err)
	}
	return files
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var sqlComment = regexp.MustCompile(`--[^\n]*`)

// migrationStatements are the migrations' statements, comments left out.
func migrationStatements(t *testing.T, dialect string) []statement {
	t.Helper()
	var out []statement
	for _, f := range migrationFiles(t, dialect) {
		text := sqlComment.ReplaceAllString(string(readFile(t, f)), "")
		for i, s := range strings.Split(text, ";") {
			out = append(out, statement{f + " statement " + strconv.Itoa(i+1), s})
		}
	}
	return out
}
