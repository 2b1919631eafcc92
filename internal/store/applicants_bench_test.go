package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// BenchmarkApplicants10k measures one page of 申込者一覧 among 10,000
// applicants: the first page, the last page, and a search.
//
//	go test -run '^$' -bench Applicants10k ./internal/store/
func BenchmarkApplicants10k(b *testing.B) {
	for _, newDB := range []func(testing.TB) testdb.DB{testdb.SQLite, testdb.Postgres} {
		db := newDB(b)
		st := open(b, db)
		f := newFixture(b, st, "owner@example.com", 20000, false)
		seedApplicants(b, st, f, 10000)
		ctx := context.Background()
		for _, q := range []struct {
			name string
			q    store.ApplicantQuery
			want int
		}{
			{"first-page", store.ApplicantQuery{Page: 1, PerPage: 50}, 50},
			{"last-page", store.ApplicantQuery{Page: 200, PerPage: 50}, 50},
			{"search", store.ApplicantQuery{Search: "p09999@", Page: 1, PerPage: 50}, 1},
		} {
			b.Run(db.Name+"/"+q.name, func(b *testing.B) {
				for b.Loop() {
					page, err := st.Applicants(ctx, f.org.ID, f.event.ID, q.q)
					if err != nil || len(page.Rows) != q.want || page.Total < q.want {
						b.Fatalf("page: %d rows of %d, %v", len(page.Rows), page.Total, err)
					}
				}
			})
		}
	}
}

// seedApplicants inserts n applications directly, which the benchmark only reads.
func seedApplicants(b *testing.B, st *store.Store, f fixture, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	err := st.Tx(ctx, func(tx *store.Tx) error {
		for i := range n {
			if _, err := tx.ExecContext(ctx, `INSERT INTO applications (org_id, event_id, schedule_id, token, submit_key,
				name, email, status, payment, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'applied', '', $8, $8)`,
				f.org.ID, f.event.ID, f.schedule.ID, fmt.Sprintf("tok-%d-%d", f.event.ID, i), fmt.Sprintf("key-%d-%d", f.event.ID, i),
				fmt.Sprintf("参加者 %05d", i), fmt.Sprintf("p%05d@example.com", i), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
