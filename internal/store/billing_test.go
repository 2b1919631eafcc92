package store_test

import (
	"context"
	"errors"
	"testing"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestBillingProfile: an organization's 請求情報 is empty until set, stored
// as given, replaced as a whole, and kept apart from other organizations.
func TestBillingProfile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		a := newFixture(t, st, "a@billing.example", 10, false).org
		b := newFixture(t, st, "b@billing.example", 10, false).org

		got, err := st.BillingProfile(ctx, a.ID)
		if err != nil || got != (store.BillingProfile{}) {
			t.Fatalf("a new organization's profile: %+v, %v", got, err)
		}
		want := store.BillingProfile{Name: "開催テスト株式会社", Address: "東京都千代田区丸の内1-1\n開催ビル3階",
			Registration: "T7000012050002"}
		if err := st.SetBillingProfile(ctx, a.ID, want); err != nil {
			t.Fatal(err)
		}
		if got, err := st.BillingProfile(ctx, a.ID); err != nil || got != want {
			t.Errorf("stored %+v, read %+v, %v", want, got, err)
		}
		if got, err := st.BillingProfile(ctx, b.ID); err != nil || got != (store.BillingProfile{}) {
			t.Errorf("another organization's profile: %+v, %v", got, err)
		}

		// An individual's number; then no number, which is no kind either.
		ind := store.BillingProfile{Name: "山田太郎", Registration: "T1234567890123", Individual: true}
		if err := st.SetBillingProfile(ctx, a.ID, ind); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.BillingProfile(ctx, a.ID); got != ind {
			t.Errorf("individual: read %+v, want %+v", got, ind)
		}
		if err := st.SetBillingProfile(ctx, a.ID, store.BillingProfile{Name: "山田太郎", Individual: true}); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.BillingProfile(ctx, a.ID); got != (store.BillingProfile{Name: "山田太郎"}) {
			t.Errorf("no number: read %+v", got)
		}

		if _, err := st.BillingProfile(ctx, 999999); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("unknown organization: %v", err)
		}
		if err := st.SetBillingProfile(ctx, 999999, want); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("setting an unknown organization's profile: %v", err)
		}
	})
}
