package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// TestMain lets a test run this binary as a kaisai process of its own
// (KAISAI_TEST_CHILD=serve), so that a test can kill it mid-job.
func TestMain(m *testing.M) {
	if os.Getenv("KAISAI_TEST_CHILD") == "serve" {
		os.Exit(serveChild())
	}
	os.Exit(m.Run())
}

// serveChild runs kaisai against the database and Zoom simulator named by
// the environment until it is killed.
func serveChild() int {
	level := slog.LevelInfo
	if os.Getenv("KAISAI_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: os.Getenv("KAISAI_TEST_DATA_DIR"),
		DatabaseURL: os.Getenv("KAISAI_TEST_DATABASE_URL"), SecretKey: apptest.TestSecretKey,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		ZoomClientID: "kaisai-dev", ZoomClientSecret: "kaisai-dev-secret",
		ZoomOAuthURL: os.Getenv("KAISAI_TEST_ZOOM_URL"), SMTPURL: os.Getenv("KAISAI_TEST_SMTP_URL")}
	// Leases as in production (store.DefaultLeaseTTL): a killed process's
	// work must be taken over within it, not within a test's shorter one.
	fastZoom(&cfg)
	fastPayments(&cfg)
	cfg.BaseURL = os.Getenv("KAISAI_TEST_BASE_URL")
	if f := os.Getenv("KAISAI_TEST_CLOCK_FILE"); f != "" {
		cfg.Now = fileClock(f)
	}
	// The test changes data through a store of its own, which nudges no
	// job here: the sweep finds its changes.
	cfg.ZoomMeetings.Sweep = 200 * time.Millisecond
	cfg.Mail.Sweep = 200 * time.Millisecond
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts kaisai as a process of its own on db, beside the
// simulator at simURL; env adds settings (KAISAI_TEST_SMTP_URL=…).
func startChild(t *testing.T, db testdb.DB, simURL string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KAISAI_TEST_CHILD=serve", "KAISAI_TEST_DATA_DIR="+db.DataDir,
		"KAISAI_TEST_DATABASE_URL="+db.DatabaseURL, "KAISAI_TEST_ZOOM_URL="+simURL)
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if os.Getenv("KAISAI_TEST_LOG") != "" {
				t.Log("child: " + sc.Text())
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// takeOver is how soon after a crash another worker must have taken the
// crashed one's work over (issue 13: within 30 s; a lease lives
// store.DefaultLeaseTTL).
const takeOver = 30 * time.Second

// within waits for cond, for at most d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	eventually.Within(t, d, what, cond)
}

// TestZoomMeetingCrashMidCreate kills kaisai (SIGKILL) while Zoom has made
// a meeting but its answer has not arrived. The next kaisai finds that
// meeting instead of making a second one, as soon as the dead worker's
// lease has run out.
func TestZoomMeetingCrashMidCreate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		sim, base, st, org, conn, _ := crashScene(t, db)

		// Zoom makes the meeting, then holds the answer.
		sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultLostAnswer, Op: "meetingCreate", Rate: 1, Delay: time.Minute})
		first := startChild(t, db, base)
		z := licensedZoom
		z.ConnID = conn
		ze := newZoomEvent(t, st, org.ID, z, 1)
		until(t, "Zoom to make the meeting", func() bool { return len(sim.State().Meetings) == 1 })
		if err := first.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		ms, err := st.EventZoomMeetings(ctx, org.ID, ze.event.ID)
		if err != nil || len(ms) != 1 || ms[0].ZoomID != 0 {
			t.Fatalf("after the kill kaisai should not know the meeting yet: %+v, %v", ms, err)
		}

		sim.ClearFaults()
		startChild(t, db, base)
		waitMeetingsInStep(t, st, takeOver)
		zm := sim.State().Meetings
		if len(zm) != 1 {
			t.Fatalf("Zoom has %d meetings after the restart, want the one made before the kill", len(zm))
		}
		ms, _ = st.EventZoomMeetings(ctx, org.ID, ze.event.ID)
		if len(ms) != 1 || ms[0].ZoomID != zm[0].ID || ms[0].JoinURL != zm[0].JoinURL || ms[0].State() != zoompolicy.MeetingCreated {
			t.Errorf("kaisai's row %+v does not name Zoom's meeting %d", ms, zm[0].ID)
		}
	})
}

// TestZoomMeetingFaultRun: with 5xx answers, timeouts, lost answers, 429s
// and refused tokens injected, creates, edits, a host change and deletions
// end with Zoom's meetings exactly as kaisai's data says: none missing,
// none twice, none left over.
//
// The waits are long, for a loaded machine (9 meetings under these faults
// take a while there), and the sweep longer: a wake-up lost on the way
// would still be seen, never rescued by the sweep.
func TestZoomMeetingFaultRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db, func(c *app.Config) { c.ZoomMeetings.Sweep = time.Hour })
		st := w.app.Store
		licensed := w.link(t, "licensed@example.com")
		other := w.link(t, "numeric@example.com")
		w.sim.SetFaults(7,
			zoomsim.Fault{Kind: zoomsim.FaultStatus, Rate: 0.2, Status: http.StatusServiceUnavailable},
			zoomsim.Fault{Kind: zoomsim.FaultStatus, Rate: 0.1, Status: http.StatusTooManyRequests},
			zoomsim.Fault{Kind: zoomsim.FaultTimeout, Rate: 0.1, Delay: 50 * time.Millisecond},
			zoomsim.Fault{Kind: zoomsim.FaultLostAnswer, Rate: 0.15, Delay: 20 * time.Millisecond},
			zoomsim.Fault{Kind: zoomsim.FaultTokenExpired, Rate: 0.05},
		)
		z := licensedZoom
		z.ConnID = licensed
		var events []zoomEvent
		for range 3 {
			events = append(events, newZoomEvent(t, st, w.org.ID, z, 3))
		}
		// Edits while the creates are under way.
		events[0].event.Title = "障害の中の変更"
		if err := st.UpdateEvent(ctx, &events[0].event); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteSchedule(ctx, w.org.ID, events[1].event.ID, events[1].schedules[1].ID); err != nil {
			t.Fatal(err)
		}
		waitMeetingsInStep(t, st, 90*time.Second)
		g := events[2].group
		g.Zoom.ConnID, g.Zoom.Passcode = other, "24681357"
		if err := st.UpdateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		events[2].group = g
		if err := st.DeleteEvent(ctx, w.org.ID, events[1].event.ID); err != nil {
			t.Fatal(err)
		}
		events = append(events[:1], events[2])
		waitMeetingsInStep(t, st, 90*time.Second)
		checkZoomMatches(t, st, w.sim, w.org.ID, events...)
		var failed int
		if err := st.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_meetings WHERE error_kind <> ''`).Scan(&failed); err != nil || failed != 0 {
			t.Errorf("%d meetings left in error, %v", failed, err)
		}
	})
}

// TestZoomRegistrantsCrashMidAdd kills kaisai (SIGKILL) while Zoom has added
// a batch of registrants but its answer has not arrived. The next kaisai
// takes the list over once the dead worker's lease has run out, and looks
// them up instead of adding them again: Zoom's list ends exactly the
// eligible applications.
func TestZoomRegistrantsCrashMidAdd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		sim, base, st, org, conn, _ := crashScene(t, db)
		z := licensedZoom
		z.ConnID = conn
		ze := newZoomEvent(t, st, org.ID, z, 1)
		first := startChild(t, db, base)
		waitMeetingsInStep(t, st, 30*time.Second)

		sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultLostAnswer, Op: "addBatchRegistrants", Rate: 1, Delay: time.Minute})
		emails, _ := applyMany(t, st, ze, "k", 40)
		zoomID := func() int64 {
			ms, err := st.EventZoomMeetings(ctx, org.ID, ze.event.ID)
			if err != nil || len(ms) != 1 {
				t.Fatalf("meetings %+v, %v", ms, err)
			}
			return ms[0].ZoomID
		}()
		until(t, "Zoom to add the first batch", func() bool {
			got, _ := approvedOnZoom(sim, zoomID)
			return len(got) > 0
		})
		if err := first.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		sim.ClearFaults()
		startChild(t, db, base)
		within(t, takeOver, "the registrants after the restart", func() bool {
			got, _ := approvedOnZoom(sim, zoomID)
			return len(got) == len(emails)
		})
		registrantsExact(t, sim, zoomID, emails)
	})
}

// crashScene is what the kill tests share: the simulator, the test's own
// store on db (no job workers: kaisai runs as a child process), and an
// organization with the simulator's licensed user linked as conn.
func crashScene(t *testing.T, db testdb.DB) (sim *zoomsim.Server, base string, st *store.Store, org event.Organization, conn int64, calls *callLog) {
	t.Helper()
	ctx := context.Background()
	// The simulator is served here, so that the calls it receives from the
	// kaisai processes are recorded.
	srv := httptest.NewUnstartedServer(nil)
	base = "http://" + srv.Listener.Addr().String()
	sim, err := zoomsim.New(zoomsim.Options{BaseURL: base, Seed: zoomsim.DefaultSeed()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	calls = &callLog{}
	srv.Config.Handler = calls.serve(sim.Handler())
	srv.Start()
	t.Cleanup(srv.Close)
	st = openTestStore(t, db)
	org, _, err = st.CreateOrganization(ctx, event.SignupInput{OrgName: "落ちる主催者", Name: "オーナー",
		Email: fmt.Sprintf("owner-%d@crash.example", time.Now().UnixNano())}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	oc := &zoom.OAuthConfig{ClientID: "kaisai-dev", ClientSecret: "kaisai-dev-secret",
		AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token",
		RedirectURL: "http://127.0.0.1:8080" + app.ZoomCallbackPath}
	return sim, base, st, org, linkZoomUser(t, st, oc, base, org.ID, "licensed@example.com"), calls
}

// openTestStore opens db with the tests' secret key, migrated, without job
// workers: the test's own hands on the data.
func openTestStore(t *testing.T, db testdb.DB) *store.Store {
	t.Helper()
	ctx := context.Background()
	key, err := secretbox.LoadKey(apptest.TestSecretKey, db.DataDir, db.DatabaseURL != "")
	if err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir, Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestZoomWebhooksGoOnAfterCrash kills kaisai (SIGKILL) while its webhook
// job waits on Zoom for a report, which leaves that unique job "running"
// until River rescues it, ten minutes later. The next kaisai still checks
// in a participant who joins meanwhile, within the job's unique period.
func TestZoomWebhooksGoOnAfterCrash(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		sim, base, st, org, conn, calls := crashScene(t, db)
		z := licensedZoom
		z.ConnID, z.WaitingRoom = conn, false
		ze := newZoomEvent(t, st, org.ID, z, 1)
		first := startChild(t, db, base)
		waitMeetingsInStep(t, st, 30*time.Second)
		emails, apps := applyMany(t, st, ze, "crash", 1)
		ms, err := st.EventZoomMeetings(ctx, org.ID, ze.event.ID)
		if err != nil || len(ms) != 1 {
			t.Fatalf("meetings %+v, %v", ms, err)
		}
		zoomID := ms[0].ZoomID
		until(t, "the registrant on Zoom", func() bool { return registrantIDs(sim, zoomID)[emails[0]] != "" })
		reg := registrantIDs(sim, zoomID)[emails[0]]

		// Zoom holds the report; the webhook job waits on it when killed.
		sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultLatency, Op: "pastMeetingParticipants", Rate: 1, Delay: time.Minute})
		record := func(kind string, object map[string]any) {
			t.Helper()
			object["id"], object["uuid"] = strconv.FormatInt(zoomID, 10), "crash-instance=="
			body, err := json.Marshal(map[string]any{"event": kind, "event_ts": time.Now().UnixMilli(),
				"payload": map[string]any{"account_id": "acct", "object": object}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.RecordZoomWebhook(ctx, kind, time.Now().UnixMilli(), store.WebhookDedupeKey(body), body); err != nil {
				t.Fatal(err)
			}
		}
		record("meeting.ended", map[string]any{"end_time": time.Now().UTC().Format(time.RFC3339)})
		until(t, "the webhook job to claim meeting.ended", func() bool {
			var n int
			_ = st.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_webhook_events
				WHERE event = 'meeting.ended' AND lease_owner IS NOT NULL`).Scan(&n)
			return n == 1
		})
		until(t, "the webhook job's call to Zoom for the report", func() bool {
			return calls.count("GET /v2/past_meetings/{id}/participants") > 0
		})
		if err := first.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		sim.ClearFaults()

		startChild(t, db, base)
		record("meeting.participant_joined", map[string]any{"participant": map[string]any{
			"user_id": "16778241", "user_name": "参加者", "participant_uuid": "16778241", "email": emails[0],
			"registrant_id": reg, "join_time": time.Now().UTC().Format(time.RFC3339)}})
		within(t, 90*time.Second, "a check-in after the restart (the killed process's webhook job must not block its successor)", func() bool {
			a, err := st.Application(ctx, org.ID, ze.event.ID, apps[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			return !a.CheckedInAt.IsZero()
		})
	})
}

// TestMailCrashMidSend kills kaisai (SIGKILL) while the SMTP server has
// taken in a mail and not answered. The next kaisai sends it, with the same
// Message-ID, once the dead worker's lease has run out: within takeOver of
// the crash, not after a two-minute claim.
func TestMailCrashMidSend(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{HoldData: 1}})
		// A client timeout longer than the test: the first kaisai waits on
		// the server until it is killed.
		smtpURL := "KAISAI_TEST_SMTP_URL=smtp://" + srv.Addr + "?starttls=none&timeout=5m"
		st := openTestStore(t, db)
		f := newMailFixture(t, st, 10)
		f.apply(t, st, 1)
		first := startChild(t, db, "", smtpURL)
		until(t, "the SMTP server to take the mail in", func() bool { return srv.Held() == 1 })
		if err := first.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		killed := time.Now()

		startChild(t, db, "", smtpURL)
		got := srv.Wait(t, 1, takeOver)
		t.Logf("mail sent %s after the crash", time.Since(killed).Round(100*time.Millisecond))
		want := "<" + mustMessageID(t, st, outbox(t, st, f.org.ID)[0].ID) + ">"
		if got[0].MessageID() != want || srv.DataAttempts(want) != 2 {
			t.Errorf("sent %s (%d attempts), want %s: the held mail again", got[0].MessageID(), srv.DataAttempts(want), want)
		}
		within(t, takeOver, "the mail to be recorded sent", func() bool {
			rows := outbox(t, st, f.org.ID)
			return len(rows) == 1 && rows[0].Status == event.MailSent
		})
	})
}
