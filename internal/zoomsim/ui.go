package zoomsim

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The web UI at / lets a person do what a Zoom user would: see users,
// meetings, registrants and participants; join a meeting as a participant,
// leave, admit, end; edit or delete a meeting on the Zoom side (with the
// webhooks Zoom sends for it); remove an app (Added Apps → Remove). Forms
// POST to /_ui/… and redirect back (303) with the outcome in ?msg=.

var uiPage = template.Must(template.New("ui").Funcs(template.FuncMap{
	"yesno": func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Zoom simulator</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:70em;padding:0 1em}
.banner{background:#fde68a;border:1px solid #b45309;padding:.5em 1em;margin:1em 0}
.msg{background:#e0f2fe;border:1px solid #0369a1;padding:.5em 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
section.meeting{border:1px solid #999;padding:.5em 1em;margin:1em 0}
form.inline{display:inline}input[type=text],input[type=email]{width:12em}
</style></head><body>
<p class="banner"><strong>Zoom simulator</strong> — a stand-in for Zoom for development and tests. This is not the real Zoom.
Control API: <a href="/_sim/state">/_sim/state</a>, <a href="/_sim/webhooks">/_sim/webhooks</a>.</p>
{{with .Msg}}<p class="msg">{{.}}</p>{{end}}

<h2>Users</h2>
<table><tr><th>E-mail</th><th>Name</th><th>Type</th><th>Passcode policy</th><th>Account</th></tr>
{{range .State.Users}}<tr><td>{{.Email}}</td><td>{{.FirstName}} {{.LastName}}</td><td>{{if eq .Type 2}}Licensed{{else}}Basic{{end}}</td>
<td>{{if .RequirePasscode}}required, {{.Policy.Length}}+ chars{{if .Policy.OnlyAllowNumeric}}, numeric{{end}}{{else}}not required{{end}}</td><td>{{.AccountID}}</td></tr>{{end}}
</table>

<h2>Apps</h2>
<table><tr><th>Client id</th><th>Redirect URIs</th><th>Event endpoint</th><th>Added by (Added Apps → Remove)</th></tr>
{{range .State.Apps}}{{$app := .}}<tr><td>{{.ClientID}}</td><td>{{range .RedirectURIs}}{{.}}<br>{{end}}</td><td>{{with .EventURL}}{{.}}{{else}}none{{end}}</td>
<td>{{range .AuthorizedUsers}}<form class="inline" method="post" action="/_ui/remove-app">{{.}}
<input type="hidden" name="email" value="{{.}}"><input type="hidden" name="client_id" value="{{$app.ClientID}}">
<button>Remove</button></form><br>{{else}}nobody{{end}}</td></tr>{{end}}
</table>

<h2>Meetings</h2>
{{range .Meetings}}{{$id := .ID}}<section class="meeting" id="m{{.ID}}">
<h3>{{.Topic}} <small>({{.ID}}, {{.Status}})</small></h3>
<table>
<tr><th>Host</th><td>{{.HostEmail}}</td></tr>
<tr><th>Start</th><td>{{.StartTime}} ({{.Timezone}}), {{.Duration}} min</td></tr>
<tr><th>Join URL</th><td><a href="{{.JoinURL}}">{{.JoinURL}}</a></td></tr>
<tr><th>Passcode</th><td>{{with .Password}}{{.}}{{else}}none{{end}}</td></tr>
<tr><th>Settings</th><td>waiting room {{yesno .Settings.WaitingRoom}}, authentication {{yesno .Settings.MeetingAuthentication}},
registration {{if eq .Settings.ApprovalType 2}}off{{else if eq .Settings.ApprovalType 0}}on (auto approve){{else}}on (manual approval){{end}},
join before host {{yesno .Settings.JoinBeforeHost}}</td></tr>
</table>

<h4>Registrants</h4>
{{if .Registrants}}<table><tr><th>Id</th><th>Name</th><th>E-mail</th><th>Status</th><th>Personal link</th></tr>
{{range .Registrants}}<tr><td>{{.ID}}</td><td>{{.FirstName}} {{.LastName}}</td><td>{{.Email}}</td><td>{{.Status}}</td><td><a href="{{.JoinURL}}">link</a></td></tr>{{end}}
</table>{{else}}<p>None.</p>{{end}}

<h4>In the meeting</h4>
{{if or .Participants .Waiting}}<table><tr><th>Id</th><th>Name</th><th>E-mail</th><th>Joined</th><th></th></tr>
{{range .Participants}}<tr><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.Email}}</td><td>{{.JoinTime.Format "15:04:05"}}</td>
<td><form class="inline" method="post" action="/_ui/meetings/{{$id}}/leave"><input type="hidden" name="participant_id" value="{{.ID}}"><button>Leave</button></form></td></tr>{{end}}
{{range .Waiting}}<tr><td>{{.ID}}</td><td>{{.Name}} (waiting room)</td><td>{{.Email}}</td><td></td>
<td><form class="inline" method="post" action="/_ui/meetings/{{$id}}/admit"><input type="hidden" name="participant_id" value="{{.ID}}"><button>Admit</button></form>
<form class="inline" method="post" action="/_ui/meetings/{{$id}}/leave"><input type="hidden" name="participant_id" value="{{.ID}}"><button>Leave</button></form></td></tr>{{end}}
</table>
<form method="post" action="/_ui/meetings/{{.ID}}/end"><button>End the meeting</button></form>{{else}}<p>Nobody.</p>{{end}}

<form method="post" action="/_ui/meetings/{{.ID}}/join"><strong>Join as a participant:</strong>
<label>E-mail (sign in; empty: guest) <input type="email" name="email"></label>
<label>Name <input type="text" name="name"></label>
<label>Passcode <input type="text" name="passcode"></label>
<label>Registrant id <input type="text" name="registrant_id"></label>
<button>Join</button></form>

<form method="post" action="/_ui/meetings/{{.ID}}/edit"><strong>Edit on the Zoom side:</strong>
<label>Topic <input type="text" name="topic" value="{{.Topic}}"></label>
<label>Start ({{.Timezone}}) <input type="datetime-local" name="start_time" value="{{.StartLocal}}"></label>
<label>Duration <input type="number" name="duration" value="{{.Duration}}" min="1" max="1440"></label>
<label>Passcode <input type="text" name="passcode" value="{{.Password}}"></label>
<button>Save</button></form>
<form method="post" action="/_ui/meetings/{{.ID}}/delete"><button>Delete the meeting</button></form>
</section>{{else}}<p>No meetings yet: kaisai (or a test) creates them through the API.</p>{{end}}
</body></html>
`))

type uiMeeting struct {
	MeetingSnapshot
	StartLocal string // for datetime-local, in the meeting's time zone
}

func (s *Server) uiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.uiIndex)
	mux.HandleFunc("POST /_ui/meetings/{id}/join", s.uiMeetingAction(func(id int64, f url.Values) (string, error) {
		p, err := s.Join(JoinRequest{MeetingID: id, Email: f.Get("email"), Name: f.Get("name"),
			Passcode: f.Get("passcode"), RegistrantID: f.Get("registrant_id")})
		if err != nil {
			return "", err
		}
		if p.Waiting {
			return p.Name + " is in the waiting room.", nil
		}
		return p.Name + " joined.", nil
	}))
	mux.HandleFunc("POST /_ui/meetings/{id}/leave", s.uiMeetingAction(func(id int64, f url.Values) (string, error) {
		return "Left.", s.Leave(id, f.Get("participant_id"))
	}))
	mux.HandleFunc("POST /_ui/meetings/{id}/admit", s.uiMeetingAction(func(id int64, f url.Values) (string, error) {
		return "Admitted.", s.Admit(id, f.Get("participant_id"))
	}))
	mux.HandleFunc("POST /_ui/meetings/{id}/end", s.uiMeetingAction(func(id int64, f url.Values) (string, error) {
		return "The meeting ended.", s.EndMeeting(id)
	}))
	mux.HandleFunc("POST /_ui/meetings/{id}/edit", s.uiMeetingAction(s.uiEdit))
	mux.HandleFunc("POST /_ui/meetings/{id}/delete", s.uiMeetingAction(func(id int64, f url.Values) (string, error) {
		return "The meeting was deleted.", s.DeleteMeeting(id)
	}))
	mux.HandleFunc("POST /_ui/remove-app", func(w http.ResponseWriter, r *http.Request) {
		msg := "The app was removed."
		if err := s.RemoveApp(r.PostFormValue("email"), r.PostFormValue("client_id")); err != nil {
			msg = uiErr(err)
		}
		http.Redirect(w, r, "/?msg="+url.QueryEscape(msg), http.StatusSeeOther)
	})
}

func (s *Server) uiIndex(w http.ResponseWriter, r *http.Request) {
	snap := s.State()
	data := struct {
		Msg      string
		State    Snapshot
		Meetings []uiMeeting
	}{Msg: r.URL.Query().Get("msg"), State: snap}
	for _, m := range snap.Meetings {
		um := uiMeeting{MeetingSnapshot: m}
		if t, err := time.Parse(zoomTime, m.StartTime); err == nil {
			if loc, err := time.LoadLocation(m.Timezone); err == nil {
				t = t.In(loc)
			}
			um.StartLocal = t.Format("2006-01-02T15:04")
		}
		data.Meetings = append(data.Meetings, um)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := uiPage.Execute(w, data); err != nil {
		s.log.Error("zoomsim: ui", "err", err)
	}
}

// uiMeetingAction runs do for the meeting of the path and redirects back
// to it with the outcome.
func (s *Server) uiMeetingAction(do func(id int64, form url.Values) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		msg := ""
		switch {
		case err != nil:
			msg = "Bad meeting id."
		case r.ParseForm() != nil:
			msg = "Bad form."
		default:
			msg, err = do(id, r.PostForm)
			if err != nil {
				msg = uiErr(err)
			}
		}
		http.Redirect(w, r, fmt.Sprintf("/?msg=%s#m%d", url.QueryEscape(msg), id), http.StatusSeeOther)
	}
}

// uiEdit changes topic, start time, duration and passcode with EditMeeting,
// so the rules of PATCH apply and meeting.updated is sent.
func (s *Server) uiEdit(id int64, f url.Values) (string, error) {
	body := map[string]any{"topic": f.Get("topic"), "password": f.Get("passcode")}
	if st := f.Get("start_time"); st != "" {
		if len(st) == len("2006-01-02T15:04") {
			st += ":00"
		}
		body["start_time"] = st // local time in the meeting's time zone, as Zoom takes it
	}
	if d := f.Get("duration"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return "", fmt.Errorf("duration %q is not a number", d)
		}
		body["duration"] = n
	}
	b, _ := json.Marshal(body)
	if err := s.EditMeeting(id, b); err != nil {
		return "", err
	}
	return "The meeting was updated.", nil
}

func uiErr(err error) string {
	if ae, ok := err.(*apiError); ok {
		msg := ae.Message
		for _, fe := range ae.Errors {
			msg += " " + fe.Field + ": " + fe.Message
		}
		return "Refused: " + msg
	}
	return "Refused: " + strings.TrimPrefix(err.Error(), "zoomsim: ")
}
