package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/event"
)

// リマインド settings, on the event's メール文面 page (partial "reminders"):
// up to event.MaxReminders rows of "N 日前 HH:MM", "N 時間前" or "N 分前";
// a row left empty or set to 送らない is none. POST /events/{id}/reminders
// saves them all at once, or with off=1 turns every reminder off.

// reminderRow is one row of the reminders' form.
type reminderRow struct {
	I                 int
	Amount, Unit, At  string
	AmountF, UnitF    string // field names
	AtF               string
	Label             string // what the stored reminder means ("" for an empty row)
	ErrField, ErrText string
}

// reminderUnits are the choices of a row's unit.
var reminderUnits = []string{"days", "hours", "minutes", "off"}

// reminderUnit is a choice of a row's unit, with its label.
type reminderUnit struct{ Value, Label string }

func reminderFields(i int) (amount, unit, at string) {
	return fmt.Sprintf("reminder%d_amount", i), fmt.Sprintf("reminder%d_unit", i), fmt.Sprintf("reminder%d_at", i)
}

// reminderLabel says r in the page's language.
func reminderLabel(p *page, r event.Reminder) string {
	switch {
	case r.Days > 0:
		return p.T("reminders.days_at", r.Days, fmt.Sprintf("%02d:%02d", r.At/60, r.At%60))
	case r.Minutes%60 == 0:
		return p.T("reminders.hours_before", r.Minutes/60)
	default:
		return p.T("reminders.minutes_before", r.Minutes)
	}
}

// remindersView is the partial's data: the form's rows (as submitted, else
// as stored) and the reminders now set.
func (s *Server) remindersView(r *http.Request, e *event.Event, p *page) map[string]any {
	rs, err := s.store.EventReminders(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.log.Error("reminders", "event", e.ID, "err", err)
	}
	_, submitted, _ := reminderFields(0)
	submitted = p.Form.Get(submitted)
	rows := make([]reminderRow, event.MaxReminders)
	for i := range rows {
		af, uf, tf := reminderFields(i)
		row := reminderRow{I: i + 1, AmountF: af, UnitF: uf, AtF: tf, Unit: "off", At: "18:00"}
		switch {
		case submitted != "":
			row.Amount, row.Unit, row.At = p.Form.Get(af), p.Form.Get(uf), p.Form.Get(tf)
		case i < len(rs):
			rem := rs[i]
			switch {
			case rem.Days > 0:
				row.Amount, row.Unit, row.At = strconv.Itoa(rem.Days), "days", fmt.Sprintf("%02d:%02d", rem.At/60, rem.At%60)
			case rem.Minutes%60 == 0:
				row.Amount, row.Unit = strconv.Itoa(rem.Minutes/60), "hours"
			default:
				row.Amount, row.Unit = strconv.Itoa(rem.Minutes), "minutes"
			}
		}
		if msg := p.Err(af); msg != "" {
			row.ErrField, row.ErrText = af, msg
		}
		rows[i] = row
	}
	labels := make([]string, len(rs))
	for i, rem := range rs {
		labels[i] = reminderLabel(p, rem)
	}
	units := make([]reminderUnit, len(reminderUnits))
	for i, u := range reminderUnits {
		units[i] = reminderUnit{Value: u, Label: p.T("reminders.unit." + u)}
	}
	return map[string]any{"Rows": rows, "Units": units, "Set": labels}
}

// remindersSave stores the event's reminders from the form, or nothing if
// any row is not a reminder kaisai can keep.
func (s *Server) remindersSave(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	p := s.newPage(r, nil)
	var rs event.Reminders
	if r.PostForm.Get("off") == "" {
		for i := range event.MaxReminders {
			af, uf, tf := reminderFields(i)
			amount, unit, at := strings.TrimSpace(r.PostForm.Get(af)), r.PostForm.Get(uf), strings.TrimSpace(r.PostForm.Get(tf))
			if unit == "" {
				unit = "off"
			}
			p.Form.Set(af, amount)
			p.Form.Set(uf, unit)
			p.Form.Set(tf, at)
			if amount == "" || unit == "off" {
				continue
			}
			n, err := strconv.Atoi(amount)
			var rem event.Reminder
			switch unit {
			case "days":
				t, terr := time.Parse("15:04", at)
				if terr != nil {
					err = terr
				}
				rem = event.Reminder{Days: n, At: t.Hour()*60 + t.Minute()}
			case "hours":
				rem = event.Reminder{Minutes: n * 60}
			case "minutes":
				rem = event.Reminder{Minutes: n}
			default:
				err = errors.New("unknown unit")
			}
			if err == nil {
				err = rem.Validate()
			}
			if err != nil {
				p.Errors.Add(af, "validation.reminder")
				continue
			}
			rs = append(rs, rem)
		}
	}
	if len(p.Errors) > 0 {
		form, custom, err := s.mailTemplatesLoad(r, &e)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for k, v := range form {
			p.Form[k] = v
		}
		p.Errors.Add("reminders", "validation.reminder")
		s.mailTemplatesPage(w, r, &e, p, custom, http.StatusUnprocessableEntity)
		return
	}
	if err := s.store.SaveEventReminders(r.Context(), e.OrgID, e.ID, rs); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/events/%d/mail", e.ID), "flash.reminders_saved")
}
