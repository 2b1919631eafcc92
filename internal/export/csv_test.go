package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// The columns the applicant list exports.
var header = []string{"氏名", "メールアドレス", "日程", "ステータス", "入金状況", "受付", "受付日時", "機密事項メモ", "申込日時"}

var row = []string{"山田 太郎", "taro@example.com", "2025/04/01 13:00〜15:00", "申込済", "入金済", "受付済",
	"2025/04/01 12:55", "車椅子で来場\n駐車場を希望", "2025/03/01 09:00"}

// readBack decodes an export and parses it as CSV.
func readBack(t *testing.T, enc Encoding, b []byte) [][]string {
	t.Helper()
	switch enc {
	case UTF8BOM:
		if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
			t.Fatalf("no UTF-8 BOM: % x", b[:min(len(b), 8)])
		}
		b = b[3:]
	case ShiftJIS:
		var err error
		if b, err = japanese.ShiftJIS.NewDecoder().Bytes(b); err != nil {
			t.Fatalf("not Shift_JIS: %v", err)
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, b)
	}
	return recs
}

func export(t *testing.T, enc Encoding, header []string, rows ...[]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, enc, header, rows); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	return buf.Bytes()
}

func TestWriteCSVRoundTrip(t *testing.T) {
	for _, enc := range []Encoding{UTF8BOM, ShiftJIS} {
		t.Run(enc.ContentType(), func(t *testing.T) {
			b := export(t, enc, header, row, []string{"髙橋 﨑子 ①", "㈱テスト", "", ""})
			got := readBack(t, enc, b)
			want := [][]string{header, slices.Clone(row), {"髙橋 﨑子 ①", "㈱テスト", "", ""}}
			if enc == ShiftJIS {
				// Windows-31J writes the wave dash as its full-width tilde.
				want[1][2] = strings.ReplaceAll(want[1][2], "〜", "～")
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("read back\n%q\nwant\n%q", got, want)
			}
			// Every line ends in CRLF, and the memo's line break inside its
			// quoted cell is CRLF too; no bare LF anywhere.
			if !bytes.HasSuffix(b, []byte("\r\n")) || bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
				t.Errorf("line endings are not all CRLF: %q", b)
			}
		})
	}
}

func TestShiftJISIsShiftJIS(t *testing.T) {
	b := export(t, ShiftJIS, []string{"氏名"}, []string{"山田"})
	// 氏名 = 0x8E81 0x96BC, 山田 = 0x8E52 0x9363 in Shift_JIS; no BOM.
	want := []byte("\x8E\x81\x96\xBC\r\n\x8E\x52\x93\x63\r\n")
	if !bytes.Equal(b, want) {
		t.Errorf("got % x, want % x", b, want)
	}
}

func TestShiftJISUnrepresentable(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"𠮷野家", "〓野家"},                       // outside the BMP, not in JIS X 0208
		{"参加します😀🎉", "参加します〓〓"},               // emoji
		{"Café", "Caf〓"},                     // Latin-1
		{"10時〜12時", "10時～12時"},               // WAVE DASH becomes Windows' FULLWIDTH TILDE
		{"¥1,000 — ‖ ¢£¬", "￥1,000 ― ∥ ￠￡￢"}, // the other JIS/Windows pairs
		{"a\u00A0b", "a b"},                  // no-break space
		{"\xff", "〓"},                        // invalid UTF-8
		{"−5", "'－5"},                        // a minus sign becomes －, which is then neutralised
	}
	for _, tt := range tests {
		got := readBack(t, ShiftJIS, export(t, ShiftJIS, nil, []string{tt.in}))
		if len(got) != 1 || len(got[0]) != 1 || got[0][0] != tt.want {
			t.Errorf("%q: read back %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUTF8KeepsEverything(t *testing.T) {
	in := []string{"𠮷野家", "😀", "Café", "10時〜12時"}
	got := readBack(t, UTF8BOM, export(t, UTF8BOM, nil, in))
	if len(got) != 1 || !slices.Equal(got[0], in) {
		t.Errorf("read back %q, want %q", got, in)
	}
}

func TestFormulaInjection(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"=1+1", "'=1+1"},
		{"=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"},
		{"+81 3 1234 5678", "'+81 3 1234 5678"},
		{"-2+3", "'-2+3"},
		{"-山田", "'-山田"}, // OWASP: every cell that starts so, text or not
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		// Ordinary cells are kept, including those with the characters
		// elsewhere than first.
		{"山田 太郎", "山田 太郎"},
		{"taro+bench@example.com", "taro+bench@example.com"},
		{"2025-04-01 13:00", "2025-04-01 13:00"},
		{"山田-太郎", "山田-太郎"},
		{"a=b", "a=b"},
		{" =1", " =1"},
		{"'quoted", "'quoted"},
		{"", ""},
	}
	for _, enc := range []Encoding{UTF8BOM, ShiftJIS} {
		for _, tt := range tests {
			if got := NeutralizeCell(tt.in); got != tt.want {
				t.Errorf("NeutralizeCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// encoding/csv with UseCRLF drops a bare carriage return: "\r=1"
			// arrives as "'=1", which is why the quote goes in first.
			want := strings.ReplaceAll(tt.want, "\r", "")
			got := readBack(t, enc, export(t, enc, []string{tt.in, "h"}, []string{"x", tt.in}))
			if len(got) != 2 || got[0][0] != want || got[1][1] != want {
				t.Errorf("%s: %q read back as %q, want %q in header and row", enc.ContentType(), tt.in, got, want)
			}
		}
	}
}

func TestParseEncoding(t *testing.T) {
	tests := []struct {
		in   string
		want Encoding
		err  bool
	}{
		{"", UTF8BOM, false},
		{"utf-8", UTF8BOM, false},
		{"UTF8", UTF8BOM, false},
		{"shift_jis", ShiftJIS, false},
		{"Shift_JIS", ShiftJIS, false},
		{"sjis", ShiftJIS, false},
		{"cp932", ShiftJIS, false},
		{"euc-jp", UTF8BOM, true},
	}
	for _, tt := range tests {
		got, err := ParseEncoding(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseEncoding(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	rows := slices.Repeat([][]string{row}, 1000)
	for _, enc := range []Encoding{UTF8BOM, ShiftJIS} {
		for _, n := range []int{0, 2, 100} {
			err := WriteCSV(&failWriter{n: n}, enc, header, rows)
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("%s, failing after %d bytes: got %v, want the writer's error", enc.ContentType(), n, err)
			}
		}
	}
	if err := WriteCSV(&bytes.Buffer{}, Encoding(99), nil, nil); err == nil {
		t.Error("an unknown encoding was accepted")
	}
}
