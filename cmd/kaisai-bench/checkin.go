package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/jobs"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoomsim"
)

// `kaisai-bench checkin`: a burst of meeting.participant_joined webhooks
// for one meeting, sent to kaisai's real HTTP listener as Zoom would send
// them, timed from each POST to its 200 and from the last POST to the last
// application checked in; then the same burst again, which must change
// nothing.

// checkinConfig is the flags of `kaisai-bench checkin`.
type checkinConfig struct {
	N           int           // webhooks, one per application
	Spread      time.Duration // the burst's length
	Clients     int           // concurrent senders
	Timeout     time.Duration // how long after the last send check-ins are awaited
	PostgresURL string
	CPUProfile  string
	Trace       string
	Verbose     bool
}

func parseCheckinFlags(args []string, stderr io.Writer) (checkinConfig, error) {
	fs := flag.NewFlagSet("kaisai-bench checkin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c checkinConfig
	fs.IntVar(&c.N, "n", 5000, "participant_joined webhooks, one per application of the meeting")
	fs.DurationVar(&c.Spread, "duration", 10*time.Second, "the burst's length: sends are spread evenly over it")
	fs.IntVar(&c.Clients, "clients", 32, "concurrent keep-alive HTTP clients sending")
	fs.DurationVar(&c.Timeout, "timeout", time.Minute, "how long after the last send every check-in is awaited")
	fs.StringVar(&c.PostgresURL, "postgres", "", "postgres:// URL of a server whose user may create databases; empty means SQLite")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile from the burst's start to the last check-in to this file (the bench's goroutines carry the label role=client)")
	fs.StringVar(&c.Trace, "trace", "", "write an execution trace from the burst's start to the last check-in to this file (go tool trace -pprof=sync|syscall|sched)")
	fs.BoolVar(&c.Verbose, "verbose", false, "show kaisai's and the simulator's log on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kaisai-bench checkin [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("checkin: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.N < 1 || c.N > 50_000:
		return c, errors.New("-n must be between 1 and 50000")
	case c.Spread <= 0 || c.Spread > 10*time.Minute:
		return c, errors.New("--duration must be positive and at most 10m")
	case c.Clients < 1 || c.Clients > 1024:
		return c, errors.New("--clients must be between 1 and 1024")
	case c.Timeout <= 0 || c.Timeout > 30*time.Minute:
		return c, errors.New("--timeout must be positive and at most 30m")
	}
	return c, nil
}

// checkinResult is what the last line reports.
type checkinResult struct {
	Webhooks     int
	P99Ack       time.Duration // of the first burst's 200s
	AllCheckedIn time.Duration // from the last send to the last check-in seen
	Lost         int           // applications not checked in at the timeout, plus deliveries not answered 200
}

// Line is the result line, exactly:
//
//	checkin webhooks=<n> p99_ack_ms=<> all_checked_in_s=<seconds after the last send> lost=<>
func (r checkinResult) Line() string {
	return fmt.Sprintf("checkin webhooks=%d p99_ack_ms=%.1f all_checked_in_s=%.2f lost=%d",
		r.Webhooks, millis(r.P99Ack), r.AllCheckedIn.Seconds(), r.Lost)
}

// benchCheckin is `kaisai-bench checkin`.
func benchCheckin(ctx context.Context, cfg checkinConfig, stdout, stderr io.Writer) (err error) {
	dbKind := "sqlite"
	if cfg.PostgresURL != "" {
		dbKind = "postgres"
	}
	fmt.Fprintf(stdout, "kaisai-bench checkin: %d meeting.participant_joined webhooks over %s from %d clients, then again; %s, GOMAXPROCS=%d\n",
		cfg.N, cfg.Spread, cfg.Clients, dbKind, runtime.GOMAXPROCS(0))
	key := make([]byte, 24)
	rand.Read(key)
	secret := hex.EncodeToString(key)
	setupBegan := time.Now()
	// Zoom's rate limits would make registering thousands take a minute of
	// batch adds; the burst itself calls Zoom for nothing, and the limits
	// are back on before it.
	w, err := startZoomWorld(ctx, worldConfig{Name: "checkin", PostgresURL: cfg.PostgresURL, Verbose: cfg.Verbose,
		LimitsOff: true, WebhookSecret: secret}, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.close(ctx, stdout); cerr != nil && err == nil {
			err = cerr
		}
	}()
	obs, err := w.openObserver()
	if err != nil {
		return err
	}
	defer obs.Close()

	// A free event whose one schedule's meeting has 登録 and 認証 on: joins
	// match by registrant id, and by the signed-in e-mail for whoever Zoom's
	// 4,999 registrants a meeting leave out (the 5,000th of the default run).
	setupCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	ze, err := w.createZoomEvent(setupCtx, event.Event{Title: "Zoom受付ベンチ", Fee: event.FeeFree},
		event.ZoomSettings{Passcode: "abc123", Registration: true, Authentication: true}, 1)
	if err != nil {
		return err
	}
	scheduleID := ze.Schedules[0].ID
	apps, err := applyMany(setupCtx, w.app.Store, &ze.Event, scheduleID, "checkin", cfg.N, 32)
	if err != nil {
		return err
	}
	zoomIDs, err := w.waitMeetings(setupCtx, ze)
	if err != nil {
		return err
	}
	zoomID := zoomIDs[scheduleID]
	joins, registered, err := w.participants(setupCtx, obs, zoomID, apps)
	if err != nil {
		return err
	}
	meeting, err := w.liveMeeting(zoomID)
	if err != nil {
		return err
	}
	// The simulator told kaisai of every registration: those deliveries
	// and their processing must be over before the clock starts.
	if err := w.waitWebhooksQuiet(setupCtx, obs); err != nil {
		return err
	}
	w.sim.SetLimits(zoomsim.ZoomLimits())
	before, err := readCheckinState(ctx, obs, ze.OrgID, scheduleID)
	if err != nil {
		return err
	}
	if len(before.CheckIns) != 0 {
		return fmt.Errorf("%d applications checked in before any join", len(before.CheckIns))
	}
	fmt.Fprintf(stdout, "setup %.1fs: kaisai %s on %s, event %d, %d free applications to schedule %d, meeting %d (登録, 認証): "+
		"%d registered on Zoom (at most %d a meeting), %d to match by e-mail\n",
		time.Since(setupBegan).Seconds(), w.app.URL(), w.app.Store.Dialect(), ze.Event.ID, len(apps), scheduleID, zoomID,
		registered, jobs.MaxRegistrants, len(apps)-registered)

	hc := newHTTPClient(newTransport(cfg.Clients))
	target := w.app.URL() + "/webhooks/zoom"
	prof := &profiler{}
	if cfg.CPUProfile != "" {
		if prof.f, err = os.Create(cfg.CPUProfile); err != nil {
			return err
		}
		defer prof.f.Close()
	}

	// The burst: each body made as it is sent (join_time and event_ts now),
	// kept for the replay; the watcher counts check-ins meanwhile.
	bodies := make([][]byte, len(joins))
	joinedAt := make([]time.Time, len(joins))
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watched := make(chan checkinWatch, 1)
	tracing := false
	if cfg.Trace != "" {
		f, err := os.Create(cfg.Trace)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		tracing = true
		defer func() {
			if tracing {
				trace.Stop()
			}
		}()
	}
	cpuBefore, busyBefore := processCPU(), machineBusy()
	prof.start()
	go pprof.Do(watchCtx, pprof.Labels("role", "client"), func(ctx context.Context) {
		watched <- watchCheckIns(ctx, obs, scheduleID, len(joins), 25*time.Millisecond)
	})
	first := sendBurst(ctx, hc, target, secret, cfg.Clients, len(joins), cfg.Spread, func(i int, at time.Time) []byte {
		joinedAt[i] = at.UTC().Truncate(time.Second) // Zoom's join_time has whole seconds
		bodies[i] = meeting.joined(i, joins[i], at)
		return bodies[i]
	})
	giveUp := time.AfterFunc(time.Until(first.LastSent.Add(cfg.Timeout)), stopWatch)
	defer giveUp.Stop()
	wt := <-watched
	cpuLine := cpuUse(processCPU()-cpuBefore, machineBusy()-busyBefore, wt.LastAt.Sub(first.Began))
	if tracing {
		trace.Stop()
		tracing = false
		fmt.Fprintf(stdout, "execution trace from the burst's start to the last check-in: %s\n", cfg.Trace)
	}
	if started, perr := prof.stop(); perr != nil {
		fmt.Fprintf(stdout, "cpu profile: %v\n", perr)
	} else if started {
		fmt.Fprintf(stdout, "cpu profile from the burst's start to the last check-in: %s (go tool pprof -tagignore role=client shows kaisai alone)\n", cfg.CPUProfile)
	}
	if wt.Err != nil && !errors.Is(wt.Err, context.Canceled) {
		return wt.Err
	}
	fmt.Fprintf(stdout, "burst: %s\n", first)
	fmt.Fprintf(stdout, "burst: p99 ack (ms) of each second's sends: %s\n", first.bySecond())
	res := checkinResult{Webhooks: len(joins), P99Ack: first.Ack.P99, Lost: first.Failed + len(joins) - wt.Count}
	if wt.AllAt.IsZero() {
		res.AllCheckedIn = wt.LastAt.Sub(first.LastSent)
		fmt.Fprintf(stdout, "check-ins: %d of %d when the last send was answered; only %d after %s\n",
			wt.countAt(first.LastAcked), len(joins), wt.Count, cfg.Timeout)
	} else {
		res.AllCheckedIn = max(0, wt.AllAt.Sub(first.LastSent))
		fmt.Fprintf(stdout, "check-ins: %d of %d when the last send was answered; all %d %.2fs after the last send (%.2fs after the first)\n",
			wt.countAt(first.LastAcked), len(joins), len(joins), res.AllCheckedIn.Seconds(), wt.AllAt.Sub(first.Began).Seconds())
	}

	fmt.Fprintf(stdout, "check-ins seen at the end of each second from the first send: %s\n", wt.bySecond(first.Began))
	fmt.Fprintln(stdout, cpuLine)

	// Processing as kaisai recorded it, once every event is marked.
	settleCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := w.waitWebhooksQuiet(settleCtx, obs); err != nil {
		fmt.Fprintln(stdout, res.Line())
		return fmt.Errorf("checkin: %d lost, and the burst's events are not all processed: %w", res.Lost, err)
	}
	line, err := processingLine(ctx, obs)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, line)
	after, err := readCheckinState(ctx, obs, ze.OrgID, scheduleID)
	if err != nil {
		return err
	}
	wrong := after.wrongTimes(apps, joinedAt)
	fmt.Fprintf(stdout, "attendance: %d sessions, matched by %v; %d applications checked in at other than their join_time\n",
		after.Attendance, after.MatchedBy, wrong)

	// The replay: the same bodies, signed anew, must change nothing.
	replay := sendBurst(ctx, hc, target, secret, cfg.Clients, len(bodies), cfg.Spread, func(i int, _ time.Time) []byte {
		return bodies[i]
	})
	fmt.Fprintf(stdout, "replay: %s\n", replay)
	// Nothing new is stored, so nothing should be due; the pause covers a
	// nudge and a batch in case something was.
	time.Sleep(time.Second)
	if err := w.waitWebhooksQuiet(settleCtx, obs); err != nil {
		return err
	}
	again, err := readCheckinState(ctx, obs, ze.OrgID, scheduleID)
	if err != nil {
		return err
	}
	changed := after.changes(again)
	fmt.Fprintf(stdout, "checkin replay webhooks=%d changed=%d\n", len(bodies), changed)
	fmt.Fprintln(stdout, res.Line())
	if res.Lost > 0 || changed > 0 || wrong > 0 || replay.Failed > 0 {
		return fmt.Errorf("checkin: %d lost, %d changed by the replay, %d wrong check-in times, %d replayed deliveries refused",
			res.Lost, changed, wrong, replay.Failed)
	}
	return nil
}

// cpuUse says how much CPU this process (kaisai, the simulator and the
// bench) and the whole machine used over wall: a machine much busier than
// this process explains a noisy run. The machine's figure is sampled by
// the kernel's tick, so on a quiet machine it can come out a little below
// the process's own.
func cpuUse(self, machine, wall time.Duration) string {
	s := fmt.Sprintf("cpu from the first send to the last check-in (%.2fs, %d CPUs): this process %.2fs", wall.Seconds(), runtime.NumCPU(), self.Seconds())
	if machine > 0 {
		s += fmt.Sprintf(", the whole machine ≈%.2fs (/proc/stat ticks)", machine.Seconds())
	}
	return s
}

// machineBusy is the CPU time all processes have used, from Linux's
// /proc/stat (in USER_HZ ticks, 100 a second on Linux); 0 elsewhere.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0
		}
		if i != 3 && i != 4 && i < 7 { // not idle, iowait, steal, or guest (counted in user already)
			busy += n
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

// openObserver opens the bench's own connection to kaisai's database, for
// watching it without taking kaisai's connections: on SQLite a read-only
// one (WAL lets it read while kaisai writes).
func (w *zoomWorld) openObserver() (*sql.DB, error) {
	if w.db.Dialect == "postgres" {
		db, err := sql.Open("pgx", w.db.URL)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(2)
		return db, nil
	}
	// kaisai.db is the file store.Open makes in the data directory.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.db.DataDir, "kaisai.db")+
		"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_time_format=sqlite&_timezone=UTC")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	return db, nil
}

// participant is who joins for one application.
type participant struct {
	Name, Email  string
	RegistrantID string // "": not registered on Zoom (matched by e-mail)
}

// participants waits until kaisai has registered every application it will
// (at most jobs.MaxRegistrants) on the meeting, checks that Zoom has them
// approved under the same ids, and returns who joins for each application.
func (w *zoomWorld) participants(ctx context.Context, obs *sql.DB, zoomID int64, apps []event.Application) ([]participant, int, error) {
	want := min(len(apps), jobs.MaxRegistrants)
	ids := map[int64]string{} // application id → registrant id
	err := poll(ctx, 200*time.Millisecond, "the registrants on Zoom", func() (bool, error) {
		clear(ids)
		rows, err := obs.QueryContext(ctx, `SELECT r.application_id, r.registrant_id FROM zoom_registrants r
			JOIN zoom_meetings m ON m.id = r.meeting_id
			WHERE m.zoom_id = $1 AND r.status = 'registered' AND r.registrant_id <> '' AND r.application_id IS NOT NULL`, zoomID)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			var app int64
			var id string
			if err := rows.Scan(&app, &id); err != nil {
				return false, err
			}
			ids[app] = id
		}
		if err := rows.Err(); err != nil {
			return false, err
		}
		if len(ids) < want {
			return false, nil
		}
		return w.listsIdle(ctx)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("%w (%d of %d registered)", err, len(ids), want)
	}
	onZoom := map[string]bool{}
	for _, m := range w.sim.State().Meetings {
		if m.ID == zoomID {
			for _, r := range m.Registrants {
				onZoom[r.ID] = r.Status == "approved"
			}
		}
	}
	ps := make([]participant, len(apps))
	for i, a := range apps {
		ps[i] = participant{Name: a.Name, Email: a.Email, RegistrantID: ids[a.ID]}
		if id := ps[i].RegistrantID; id != "" && !onZoom[id] {
			return nil, 0, fmt.Errorf("application %d: registrant %s is not approved on Zoom", a.ID, id)
		}
	}
	return ps, len(ids), nil
}

// joinedMeeting is the meeting a burst joins, as participant_joined names it.
type joinedMeeting struct {
	AccountID string
	Object    joinedObject
}

// liveMeeting reads the meeting from the simulator.
func (w *zoomWorld) liveMeeting(zoomID int64) (joinedMeeting, error) {
	host, ok := w.sim.User(hostEmail)
	if !ok {
		return joinedMeeting{}, fmt.Errorf("the simulator has no user %s", hostEmail)
	}
	for _, m := range w.sim.State().Meetings {
		if m.ID == zoomID {
			return joinedMeeting{AccountID: host.AccountID, Object: joinedObject{ID: strconv.FormatInt(m.ID, 10),
				UUID: m.UUID, HostID: m.HostID, Topic: m.Topic, Type: m.Type, StartTime: m.StartTime,
				Timezone: m.Timezone, Duration: m.Duration}}, nil
		}
	}
	return joinedMeeting{}, fmt.Errorf("meeting %d is not on the simulator", zoomID)
}

// participantJoined is a meeting.participant_joined delivery as Zoom (and
// the simulator, participants.go enterLocked) sends it: the meeting id a
// string, times in UTC to the second, event_ts in milliseconds.
type participantJoined struct {
	Event   string `json:"event"`
	EventTS int64  `json:"event_ts"`
	Payload struct {
		AccountID string       `json:"account_id"`
		Object    joinedObject `json:"object"`
	} `json:"payload"`
}

type joinedObject struct {
	ID          string            `json:"id"`
	UUID        string            `json:"uuid"`
	HostID      string            `json:"host_id"`
	Topic       string            `json:"topic"`
	Type        int               `json:"type"`
	StartTime   string            `json:"start_time"`
	Timezone    string            `json:"timezone"`
	Duration    int               `json:"duration"`
	Participant joinedParticipant `json:"participant"`
}

type joinedParticipant struct {
	UserID            string `json:"user_id"`
	UserName          string `json:"user_name"`
	ID                string `json:"id"`
	ParticipantUserID string `json:"participant_user_id"`
	ParticipantUUID   string `json:"participant_uuid"`
	JoinTime          string `json:"join_time"`
	Email             string `json:"email"`
	RegistrantID      string `json:"registrant_id,omitempty"`
}

// joined is the body of the i-th participant's join at t: each has its own
// in-meeting id, and a Zoom user id (signed in, as 認証 asks) made from the
// e-mail the way the simulator makes one for another account's user.
func (m joinedMeeting) joined(i int, p participant, t time.Time) []byte {
	var d participantJoined
	d.Event, d.EventTS = webhook.EventParticipantJoined, t.UnixMilli()
	d.Payload.AccountID, d.Payload.Object = m.AccountID, m.Object
	sum := sha256.Sum256([]byte(p.Email))
	user := base64.RawURLEncoding.EncodeToString(sum[:16])
	d.Payload.Object.Participant = joinedParticipant{UserID: strconv.Itoa(16778241 + i), UserName: p.Name,
		ID: user, ParticipantUserID: user, ParticipantUUID: fmt.Sprintf("B3C4D5E6-0000-4000-8000-%012X", i),
		JoinTime: t.UTC().Format("2006-01-02T15:04:05Z"), Email: p.Email, RegistrantID: p.RegistrantID}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return b
}

// burst is how one sending of webhooks went.
type burst struct {
	N               int
	Ack             latencySummary // from each POST to its 200
	Failed          int            // not answered 200, or not sent
	Failures        map[string]int // by status or error
	Began, LastSent time.Time
	LastAcked       time.Time
	Behind          time.Duration // the most a send started after its time
	acks            []sentAck
}

// sentAck is one 200: when its POST went, from the burst's start, and how
// long the answer took.
type sentAck struct{ At, Took time.Duration }

// bySecond is the p99 ack of each second of the burst, in milliseconds.
func (b *burst) bySecond() string {
	var secs [][]time.Duration
	for _, a := range b.acks {
		i := int(a.At / time.Second)
		for len(secs) <= i {
			secs = append(secs, nil)
		}
		secs[i] = append(secs[i], a.Took)
	}
	var out []string
	for _, s := range secs {
		out = append(out, fmt.Sprintf("%.1f", millis(summarize(s).P99)))
	}
	return strings.Join(out, " ")
}

func (b *burst) String() string {
	span := b.LastSent.Sub(b.Began)
	rate := 0.0
	if span > 0 {
		rate = float64(b.N-1) / span.Seconds()
	}
	s := fmt.Sprintf("sent %d in %.2fs (%.0f/s; the latest send %s behind its time); acks %s; not 200: %d",
		b.N, span.Seconds(), rate, ms(b.Behind), b.Ack, b.Failed)
	if b.Failed > 0 {
		s += fmt.Sprintf(" %v", b.Failures)
	}
	return s
}

// sendBurst posts n webhooks, the i-th due spread·i/n after the start,
// from clients goroutines, each signed as sent; body(i, at) is the i-th
// body as sent at at.
func sendBurst(ctx context.Context, hc *http.Client, url, secret string, clients, n int, spread time.Duration,
	body func(i int, at time.Time) []byte) *burst {
	b := &burst{N: n, Failures: map[string]int{}}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.Began = time.Now()
	for range min(clients, n) {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("role", "client"), func(ctx context.Context) {
				var acks []sentAck
				var behind time.Duration
				var lastSent, lastAcked time.Time
				fails := map[string]int{}
				for {
					i := int(next.Add(1)) - 1
					if i >= n || ctx.Err() != nil {
						break
					}
					due := b.Began.Add(time.Duration(int64(spread) * int64(i) / int64(n)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					at := time.Now()
					behind = max(behind, at.Sub(due))
					lastSent = at
					if why := postWebhook(ctx, hc, url, secret, body(i, at), at); why != "" {
						fails[why]++
						continue
					}
					lastAcked = time.Now()
					acks = append(acks, sentAck{At: at.Sub(b.Began), Took: lastAcked.Sub(at)})
				}
				mu.Lock()
				defer mu.Unlock()
				b.acks = append(b.acks, acks...)
				for k, v := range fails {
					b.Failures[k] += v
					b.Failed += v
				}
				b.Behind = max(b.Behind, behind)
				if lastSent.After(b.LastSent) {
					b.LastSent = lastSent
				}
				if lastAcked.After(b.LastAcked) {
					b.LastAcked = lastAcked
				}
			})
		})
	}
	wg.Wait()
	if unsent := n - len(b.acks) - b.Failed; unsent > 0 {
		b.Failures["not sent"] += unsent
		b.Failed += unsent
	}
	took := make([]time.Duration, len(b.acks))
	for i, a := range b.acks {
		took[i] = a.Took
	}
	b.Ack = summarize(took)
	return b
}

// postWebhook sends one signed delivery and says why it was not answered
// 200 ("" when it was).
func postWebhook(ctx context.Context, hc *http.Client, url, secret string, body []byte, at time.Time) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	webhook.SetHeaders(req.Header, secret, at, body)
	resp, err := hc.Do(req)
	if err != nil {
		return errorClass(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return strconv.Itoa(resp.StatusCode)
	}
	return ""
}

// bySecond is how many were seen checked in at the end of each second
// from began, up to the last look.
func (w checkinWatch) bySecond(began time.Time) string {
	var out []string
	for t := began.Add(time.Second); ; t = t.Add(time.Second) {
		out = append(out, strconv.Itoa(w.countAt(t)))
		if !t.Before(w.LastAt) {
			return strings.Join(out, " ")
		}
	}
}

// checkinWatch is what watchCheckIns saw.
type checkinWatch struct {
	Count  int       // applications checked in at the last look
	LastAt time.Time // when that was
	AllAt  time.Time // when every one was first seen checked in; zero: never
	seen   []countAt
	Err    error
}

type countAt struct {
	At    time.Time
	Count int
}

// countAt is how many were seen checked in at the last look before t.
func (w checkinWatch) countAt(t time.Time) int {
	n := 0
	for _, c := range w.seen {
		if c.At.After(t) {
			break
		}
		n = c.Count
	}
	return n
}

// watchCheckIns counts the schedule's checked-in applications every
// interval until all n are, or ctx ends.
func watchCheckIns(ctx context.Context, obs *sql.DB, scheduleID int64, n int, interval time.Duration) checkinWatch {
	var w checkinWatch
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var c int
		err := obs.QueryRowContext(ctx, `SELECT COUNT(*) FROM applications
			WHERE schedule_id = $1 AND checked_in_at IS NOT NULL`, scheduleID).Scan(&c)
		if err != nil {
			w.Err = err
			return w
		}
		w.Count, w.LastAt = c, time.Now()
		w.seen = append(w.seen, countAt{w.LastAt, c})
		if c >= n {
			w.AllAt = w.LastAt
			return w
		}
		select {
		case <-ctx.Done():
			return w
		case <-t.C:
		}
	}
}

// waitWebhooksQuiet waits until the simulator has no delivery left to make
// and kaisai no stored event left to process.
func (w *zoomWorld) waitWebhooksQuiet(ctx context.Context, obs *sql.DB) error {
	if _, err := w.sim.WaitDeliveries(ctx, func(ds []zoomsim.Delivery) bool {
		for _, d := range ds {
			if !d.Done {
				return false
			}
		}
		return true
	}); err != nil {
		return fmt.Errorf("waiting for the simulator's webhooks: %w", err)
	}
	return poll(ctx, 50*time.Millisecond, "the webhook events to be processed", func() (bool, error) {
		var n int
		err := obs.QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_webhook_events WHERE status = 'pending'`).Scan(&n)
		return n == 0, err
	})
}

// processingLine says how long kaisai took over the burst's events, by its
// own clock: from stored (the 200) to marked processed.
func processingLine(ctx context.Context, obs *sql.DB) (string, error) {
	rows, err := obs.QueryContext(ctx, `SELECT received_at, processed_at FROM zoom_webhook_events
		WHERE event = $1 AND processed_at IS NOT NULL ORDER BY id`, webhook.EventParticipantJoined)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var waits []time.Duration
	var first, last time.Time
	for rows.Next() {
		var received, processed time.Time
		if err := rows.Scan(&received, &processed); err != nil {
			return "", err
		}
		waits = append(waits, processed.Sub(received))
		if first.IsZero() || received.Before(first) {
			first = received
		}
		if processed.After(last) {
			last = processed
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	span := last.Sub(first)
	rate := 0.0
	if span > 0 {
		rate = float64(len(waits)) / span.Seconds()
	}
	return fmt.Sprintf("processing (stored → marked processed, kaisai's clock): %s; the first stored to the last processed %.2fs (%.0f events/s)",
		summarize(waits), span.Seconds(), rate), nil
}

// checkinState is what a replay must leave as it is.
type checkinState struct {
	CheckIns   map[int64]checkIn // checked-in applications of the schedule
	Attendance int               // zoom_attendance rows of the schedule
	MatchedBy  map[string]int    // those rows by how they were matched
	Activity   int               // activity_log rows of the organization
	Webhooks   int               // stored webhook events
}

type checkIn struct {
	At     time.Time
	Source string
}

func readCheckinState(ctx context.Context, obs *sql.DB, orgID, scheduleID int64) (checkinState, error) {
	s := checkinState{CheckIns: map[int64]checkIn{}, MatchedBy: map[string]int{}}
	rows, err := obs.QueryContext(ctx, `SELECT id, checked_in_at, checkin_source FROM applications
		WHERE schedule_id = $1 AND checked_in_at IS NOT NULL`, scheduleID)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c checkIn
		if err := rows.Scan(&id, &c.At, &c.Source); err != nil {
			return s, err
		}
		c.At = c.At.UTC()
		s.CheckIns[id] = c
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	rows, err = obs.QueryContext(ctx, `SELECT matched_by, COUNT(*) FROM zoom_attendance WHERE schedule_id = $1 GROUP BY matched_by`, scheduleID)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var by string
		var n int
		if err := rows.Scan(&by, &n); err != nil {
			return s, err
		}
		s.MatchedBy[by] = n
		s.Attendance += n
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	err = obs.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM activity_log WHERE org_id = $1),
		(SELECT COUNT(*) FROM zoom_webhook_events)`, orgID).Scan(&s.Activity, &s.Webhooks)
	return s, err
}

// changes counts what differs from s in t: check-ins added, removed or
// moved, and rows added or removed.
func (s checkinState) changes(t checkinState) int {
	n := 0
	for id, c := range s.CheckIns {
		if d, ok := t.CheckIns[id]; !ok || !d.At.Equal(c.At) || d.Source != c.Source {
			n++
		}
	}
	for id := range t.CheckIns {
		if _, ok := s.CheckIns[id]; !ok {
			n++
		}
	}
	abs := func(d int) int { return max(d, -d) }
	return n + abs(t.Attendance-s.Attendance) + abs(t.Activity-s.Activity) + abs(t.Webhooks-s.Webhooks)
}

// wrongTimes counts the applications checked in otherwise than from Zoom
// at their participant's join_time.
func (s checkinState) wrongTimes(apps []event.Application, joinedAt []time.Time) int {
	n := 0
	for i, a := range apps {
		c, ok := s.CheckIns[a.ID]
		if ok && (c.Source != "zoom" || !c.At.Equal(joinedAt[i])) {
			n++
		}
	}
	return n
}
