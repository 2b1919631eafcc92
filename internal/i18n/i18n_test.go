package i18n

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPluralForms(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang Lang
		n    any
		want string
	}{
		{English, 0, "0 seats left"},
		{English, 1, "1 seat left"},
		{English, int64(1), "1 seat left"},
		{English, 19, "19 seats left"},
		{English, int64(21), "21 seats left"},
		{Japanese, 1, "残り1席"},
		{Japanese, 19, "残り19席"},
	} {
		if got := c.T(tc.lang, "public.seats_left_n", tc.n); got != tc.want {
			t.Errorf("T(%s, public.seats_left_n, %v) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := c.Forms(English, "public.seats_left_n"); len(got) != 2 || got[0] != "%d seat left" {
		t.Errorf("Forms(en, public.seats_left_n) = %q, want the one form first", got)
	}
	if got := c.Forms(Japanese, "public.seats_left_n"); len(got) != 1 {
		t.Errorf("Forms(ja, public.seats_left_n) = %q, want one plain text", got)
	}
}

func TestMessageJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    message
		wantErr string
	}{
		{`"plain %d"`, message{other: "plain %d"}, ""},
		{`{"one": "%d day", "other": "%d days"}`, message{one: "%d day", other: "%d days"}, ""},
		{`{"one": "%d day"}`, message{}, `both "one" and "other"`},
		{`{"one": "%d day", "other": "%d days", "few": "x"}`, message{}, "unknown field"},
		{`42`, message{}, "cannot unmarshal"},
	} {
		var m message
		err := json.Unmarshal([]byte(tc.in), &m)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case m != tc.want:
			t.Errorf("%s: got %+v, want %+v", tc.in, m, tc.want)
		}
	}
}
