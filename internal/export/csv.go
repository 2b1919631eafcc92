// Package export writes lists for organizers to download: CSV that opens
// correctly in Excel in Japan. It knows nothing of kaisai's domain; callers
// build the header and the cells.
package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Encoding is the character encoding of an exported CSV file.
type Encoding int

const (
	// UTF8BOM is UTF-8 preceded by a byte order mark, which is how Excel
	// recognises UTF-8; without it Excel in Japan reads the file as Shift_JIS
	// and shows mojibake. The default.
	UTF8BOM Encoding = iota
	// ShiftJIS is Windows-31J (CP932, the Shift_JIS of Windows and Excel,
	// with NEC and IBM extensions such as ① and ㈱), for older Excel and
	// other software that reads nothing else. Characters it cannot represent
	// are replaced: see Replacement.
	ShiftJIS
)

// Replacement stands in, in a ShiftJIS export, for a character that
// Windows-31J cannot represent (an emoji, 𠮷, é): 〓 (geta, U+3013), the
// customary mark for a missing character in Japanese text, which stands out
// where '?' would pass for punctuation. The export never fails because of
// such a character.
const Replacement = '〓'

// ParseEncoding reads the encoding a person chose: "" or "utf-8" (also
// "utf8") is UTF8BOM; "shift_jis" (also "sjis", "cp932", "windows-31j") is
// ShiftJIS. Case is ignored.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8":
		return UTF8BOM, nil
	case "shift_jis", "shift-jis", "sjis", "cp932", "windows-31j":
		return ShiftJIS, nil
	}
	return UTF8BOM, fmt.Errorf("export: unknown encoding %q", s)
}

// ContentType is the Content-Type of a CSV file in e.
func (e Encoding) ContentType() string {
	if e == ShiftJIS {
		return "text/csv; charset=Shift_JIS"
	}
	return "text/csv; charset=utf-8"
}

// WriteCSV writes header and rows as CSV for Excel: in enc, with CRLF line
// endings, every cell neutralised against formula injection (see
// NeutralizeCell). Rows may differ in length.
func WriteCSV(w io.Writer, enc Encoding, header []string, rows [][]string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("export: write CSV: %w", err)
		}
	}()
	var cell func(string) string
	var tw *transform.Writer
	switch enc {
	case UTF8BOM:
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return err
		}
		cell = NeutralizeCell
	case ShiftJIS:
		s := newSJISSanitizer()
		// Sanitize first: a replaced character may be one that starts a
		// formula (− becomes －).
		cell = func(v string) string { return NeutralizeCell(s.sanitize(v)) }
		// Every cell is representable once sanitized, and CSV's own
		// characters are ASCII: the encoder cannot fail.
		tw = transform.NewWriter(w, japanese.ShiftJIS.NewEncoder())
		w = tw
	default:
		return fmt.Errorf("unknown encoding %d", enc)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	record := make([]string, 0, len(header))
	write := func(cells []string) error {
		record = record[:0]
		for _, v := range cells {
			record = append(record, cell(v))
		}
		return cw.Write(record)
	}
	if header != nil {
		if err := write(header); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	err = cw.Error()
	if tw != nil {
		err = errors.Join(err, tw.Close())
	}
	return err
}

// NeutralizeCell defends against CSV (formula) injection as OWASP
// recommends: a cell starting with '=', '+', '-', '@', a tab or a carriage
// return gets a leading single quote, so that Excel shows it as text
// instead of evaluating it. So do the full-width ＝ ＋ － ＠, which Japanese
// Excel may also take for a formula. Every such cell is prefixed, even one
// that is only text ("-山田", "+81 3…"): telling formulas from text is what
// the attack exploits. Other cells are unchanged.
func NeutralizeCell(v string) string {
	r, _ := utf8.DecodeRuneInString(v)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		return "'" + v
	}
	return v
}

// cp932Equivalents maps characters that Windows-31J lacks to the one it has
// for the same glyph: text typed on a Mac or copied from the web carries
// JIS X 0208's code points (〜 WAVE DASH), Windows-31J the full-width forms
// (～). Without this every "10時〜12時" would lose its 〜.
var cp932Equivalents = map[rune]rune{
	'\u301C': '\uFF5E', // 〜 → ～
	'\u2016': '\u2225', // ‖ → ∥
	'\u2212': '\uFF0D', // − → －
	'\u00A2': '\uFFE0', // ¢ → ￠
	'\u00A3': '\uFFE1', // £ → ￡
	'\u00AC': '\uFFE2', // ¬ → ￢
	'\u2014': '\u2015', // — → ―
	'\u00A5': '\uFFE5', // ¥ → ￥
	'\u00A0': ' ',      // no-break space → space
}

// sjisSanitizer replaces what Windows-31J cannot represent.
type sjisSanitizer struct {
	enc *encoding.Encoder
	ok  map[rune]bool // representable, learned as cells go by
}

func newSJISSanitizer() *sjisSanitizer {
	return &sjisSanitizer{enc: japanese.ShiftJIS.NewEncoder(), ok: map[rune]bool{}}
}

func (s *sjisSanitizer) representable(r rune) bool {
	if r < utf8.RuneSelf {
		return true
	}
	ok, seen := s.ok[r]
	if !seen {
		_, err := s.enc.String(string(r))
		ok = err == nil
		s.ok[r] = ok
	}
	return ok
}

func (s *sjisSanitizer) sanitize(v string) string {
	clean := true
	for _, r := range v {
		if !s.representable(r) {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		switch {
		case s.representable(r):
			b.WriteRune(r)
		case cp932Equivalents[r] != 0 && s.representable(cp932Equivalents[r]):
			b.WriteRune(cp932Equivalents[r])
		default:
			b.WriteRune(Replacement)
		}
	}
	return b.String()
}
