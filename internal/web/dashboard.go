package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"kaisai/internal/chart"
	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
)

// The event page's dashboard (issue 19, part 5): applications and 入金 per
// day, the fill of each 日程, and after a 日程 has ended who came and for
// how long. The charts are SVG drawn here; the page needs no script.

// dashboardView is what the "dashboard" partial shows.
type dashboardView struct {
	Daily      template.HTML
	DailyNote  string
	Fill       template.HTML
	Attendance template.HTML   // nil until a 日程 has ended
	Minutes    []template.HTML // per ended 日程 with Zoom attendance
}

// eventDashboard adds the dashboard to the event page's data.
func (s *Server) eventDashboard(r *http.Request, e *event.Event, groups []store.GroupWithSchedules, data map[string]any) error {
	act, err := s.store.EventActivity(r.Context(), e.OrgID, e.ID)
	if err != nil {
		return err
	}
	p := s.newPage(r, nil)
	data["Dashboard"] = buildDashboard(p, e, groups, act, s.now())
	return nil
}

func buildDashboard(p *page, e *event.Event, groups []store.GroupWithSchedules, act store.EventActivity, now time.Time) *dashboardView {
	loc := e.Location()
	var schedules []event.Schedule
	for _, g := range groups {
		schedules = append(schedules, g.Schedules...)
	}
	// The days run on to today while a 日程 is still to end.
	var through time.Time
	for _, sc := range schedules {
		if sc.EndsAt.After(now) {
			through = now
		}
	}
	v := &dashboardView{DailyNote: p.T("dashboard.daily_note", e.TimeZone)}
	v.Daily = dailyChart(p, e, act.PerDay(loc, through))
	v.Fill = fillChart(p, loc, schedules)
	v.Attendance, v.Minutes = attendanceCharts(p, loc, schedules, act.Attendance, now)
	return v
}

// shortDay labels a day under its bar: 12/3, or Dec 3.
func shortDay(l i18n.Lang, d time.Time) string {
	if l == i18n.English {
		return d.Format("Jan 2")
	}
	return fmt.Sprintf("%d/%d", d.Month(), d.Day())
}

func percent(n, of int) int {
	if of <= 0 {
		return 0
	}
	return (n*100 + of/2) / of
}

func dailyChart(p *page, e *event.Event, days []store.DayCount) template.HTML {
	title := p.T("dashboard.daily_title_free")
	if e.Paid() {
		title = p.T("dashboard.daily_title")
	}
	c := chart.Columns{ID: "chart-daily", Title: title, Empty: p.T("dashboard.no_applications"),
		TableLabel: p.T("dashboard.table"), LabelHeader: p.T("dashboard.day")}
	applied := chart.Series{Name: p.T("dashboard.applied"), Class: "applied"}
	paid := chart.Series{Name: p.T("dashboard.paid"), Class: "paid"}
	total, paidTotal, best := 0, 0, -1
	for i, d := range days {
		c.Labels = append(c.Labels, shortDay(p.Lang, d.Day))
		applied.Values = append(applied.Values, d.Applied)
		paid.Values = append(paid.Values, d.Paid)
		total += d.Applied
		paidTotal += d.Paid
		if best < 0 || d.Applied > days[best].Applied {
			best = i
		}
	}
	c.Series = []chart.Series{applied}
	if e.Paid() {
		c.Series = append(c.Series, paid)
	}
	if total == 0 && paidTotal == 0 {
		return c.Render()
	}
	c.Desc = p.T("dashboard.daily_desc", i18n.Day(p.Lang, days[0].Day, e.Location()),
		i18n.Day(p.Lang, days[len(days)-1].Day, e.Location()), total,
		i18n.Day(p.Lang, days[best].Day, e.Location()), days[best].Applied)
	if e.Paid() {
		c.Desc += " " + p.T("dashboard.daily_desc_paid", paidTotal)
	}
	return c.Render()
}

func fillChart(p *page, loc *time.Location, schedules []event.Schedule) template.HTML {
	c := chart.Bars{ID: "chart-fill", Title: p.T("dashboard.fill_title"), Empty: p.T("dashboard.no_schedules"),
		TableLabel: p.T("dashboard.table"), LabelHeader: p.T("dashboard.schedule"),
		ValueHeader: p.T("dashboard.fill_value"), Class: "fill"}
	taken, capacity := 0, 0
	var each []string
	for _, sc := range schedules {
		text := p.T("dashboard.fill_text", sc.SeatsTaken, sc.Capacity, percent(sc.SeatsTaken, sc.Capacity))
		if sc.Capacity <= 0 {
			text = p.T("dashboard.fill_text_unlimited", sc.SeatsTaken)
		}
		label := p.DateTime(sc.StartsAt, loc)
		c.Bars = append(c.Bars, chart.Bar{Label: label, Value: sc.SeatsTaken, Max: sc.Capacity, Text: text})
		each = append(each, label+" "+text)
		taken += sc.SeatsTaken
		capacity += max(sc.Capacity, 0)
	}
	c.Desc = p.T("dashboard.fill_desc", len(schedules), capacity, taken) + " " + strings.Join(each, ", ")
	return c.Render()
}

// bucketWidth splits a 日程 of length minutes into four buckets of
// minutes attended; the last is "the last quarter or more", so a stay past
// the end still falls in it.
func bucketWidth(length int) int {
	return max((length+3)/4, 1)
}

func attendanceCharts(p *page, loc *time.Location, schedules []event.Schedule, att map[int64]store.ScheduleAttendance,
	now time.Time) (template.HTML, []template.HTML) {
	c := chart.Bars{ID: "chart-attendance", Title: p.T("dashboard.attendance_title"),
		TableLabel: p.T("dashboard.table"), LabelHeader: p.T("dashboard.schedule"),
		ValueHeader: p.T("dashboard.attendance_value"), Class: "attendance"}
	var minutes []template.HTML
	applied, came := 0, 0
	var each []string
	for _, sc := range schedules {
		if sc.EndsAt.After(now) {
			continue
		}
		a := att[sc.ID]
		text := p.T("dashboard.attendance_text", a.CheckedIn, a.Applied, percent(a.CheckedIn, a.Applied))
		if a.Applied == 0 {
			text = p.T("dashboard.attendance_none")
		}
		label := p.DateTime(sc.StartsAt, loc)
		c.Bars = append(c.Bars, chart.Bar{Label: label, Value: a.CheckedIn, Max: a.Applied, Text: text})
		each = append(each, label+" "+text)
		applied += a.Applied
		came += a.CheckedIn
		if len(a.Minutes) > 0 {
			minutes = append(minutes, minutesChart(p, label, sc, a.Minutes))
		}
	}
	if len(c.Bars) == 0 {
		return "", nil
	}
	c.Desc = p.T("dashboard.attendance_desc", len(c.Bars), applied, came) + " " + strings.Join(each, ", ")
	return c.Render(), minutes
}

func minutesChart(p *page, label string, sc event.Schedule, ms []int64) template.HTML {
	w := bucketWidth(int(sc.EndsAt.Sub(sc.StartsAt) / time.Minute))
	counts := make([]int, 4)
	for _, m := range ms {
		counts[min(int(m)/w, 3)]++
	}
	c := chart.Bars{ID: fmt.Sprintf("chart-minutes-%d", sc.ID), Title: p.T("dashboard.minutes_title", label),
		TableLabel: p.T("dashboard.table"), LabelHeader: p.T("dashboard.minutes_label"),
		ValueHeader: p.T("dashboard.minutes_value"), Class: "minutes"}
	var each []string
	for i, n := range counts {
		b := p.T("dashboard.minutes_bucket", i*w, (i+1)*w-1)
		if i == 3 {
			b = p.T("dashboard.minutes_bucket_last", i*w)
		}
		text := p.T("dashboard.people", n)
		c.Bars = append(c.Bars, chart.Bar{Label: b, Value: n, Max: len(ms), Text: text})
		each = append(each, b+" "+text)
	}
	c.Desc = p.T("dashboard.minutes_desc", len(ms), strings.Join(each, ", "))
	return c.Render()
}

// eventRow is an event on the organization's home: its next 日程 (or, once
// all have ended, its last), the seats taken of all its 日程, and its 未入金.
type eventRow struct {
	store.EventOverview
	When     time.Time // zero: no 日程 yet
	Loc      *time.Location
	Taken    int
	Capacity int
	Meter    template.HTML
}

// eventListData splits the events into those to come, the next 日程 first
// (events with no 日程 yet after them), and those past, the latest first.
func eventListData(es []store.EventOverview, now time.Time) map[string]any {
	var upcoming, undated, past []eventRow
	for _, o := range es {
		row := eventRow{EventOverview: o, Loc: o.Location()}
		row.Taken, row.Capacity = o.Fill()
		row.Meter = chart.Meter(row.Taken, row.Capacity, "fill")
		switch next := o.Next(now); {
		case len(o.Schedules) == 0:
			undated = append(undated, row)
		case !next.IsZero():
			row.When = next
			upcoming = append(upcoming, row)
		default:
			row.When = o.Schedules[len(o.Schedules)-1].StartsAt
			past = append(past, row)
		}
	}
	slices.SortStableFunc(upcoming, func(a, b eventRow) int { return a.When.Compare(b.When) })
	slices.SortStableFunc(past, func(a, b eventRow) int { return b.When.Compare(a.When) })
	return map[string]any{"Upcoming": append(upcoming, undated...), "Past": past, "Any": len(es) > 0}
}
