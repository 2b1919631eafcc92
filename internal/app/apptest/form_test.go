package apptest

import (
	"net/url"
	"reflect"
	"testing"
)

func TestBrowserForm(t *testing.T) {
	page := `<form method="post" action="/other"><input name="x" value="no"></form>
<form method="post" action="/events/1/groups/2/edit" class="card">
  <input type="hidden" name="form_key" value="k&amp;1">
  <label>名前<input name="name" value="オンライン" maxlength="200"></label>
  <input type="radio" name="venue" value="place"> <input type="radio" name="venue" value="zoom" id="venue-zoom" checked>
  <select name="zoom_host" id="zoom-host"><option value="1" disabled>A</option><option value="2" selected>B</option></select>
  <select name="unlinked"><option value="1" disabled selected>A</option><option value="2">B</option></select>
  <select name="first"><option value="1" disabled>A</option><option value="2">B</option><option value="3">C</option></select>
  <input type="checkbox" name="zoom_registration" value="1" id="zoom-registration" checked disabled>
  <input type="checkbox" name="zoom_waiting_room" value="1" checked>
  <input type="checkbox" name="zoom_authentication" value="1">
  <input type="checkbox" name="plain" checked>
  <textarea name="zoom_agenda" rows="4">
第1部 &lt;入門&gt;</textarea>
  <button type="submit" name="action" value="save">保存</button>
</form>`
	got, err := BrowserForm(page, "/events/1/groups/2/edit")
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"form_key": {"k&1"}, "name": {"オンライン"}, "venue": {"zoom"}, "zoom_host": {"2"},
		"first": {"2"}, "zoom_waiting_room": {"1"}, "plain": {"on"}, "zoom_agenda": {"第1部 <入門>"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BrowserForm =\n%v, want\n%v", got, want)
	}
	if _, err := BrowserForm(page, "/nowhere"); err == nil {
		t.Error("a form that is not on the page was found")
	}
}
