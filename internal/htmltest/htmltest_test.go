package htmltest

import (
	"slices"
	"testing"
)

const page = `<!doctype html><html><body>
<table><tr class="mail sent" data-id="3"><td>件名 <b>A</b></td><td><a href="/x" rel="next">次</a></td></tr>
<tr class="mail" data-id="4"><td>  B
 C </td></tr></table>
<p id="note">note <a href="/y">y</a></p>
<input type="hidden" name="shown" value="a b">
</body></html>`

func texts(ns []Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Text())
	}
	return out
}

func TestFind(t *testing.T) {
	doc := Parse(t, page)
	for _, c := range []struct {
		sel  string
		want []string
	}{
		{"tr.mail td", []string{"件名 A", "次", "B C"}},
		{`tr.sent[data-id="3"] td`, []string{"件名 A", "次"}},
		{"tr[data-id=4]", []string{"B C"}},
		{"a[rel]", []string{"次"}},
		{"#note a", []string{"y"}},
		{"table a", []string{"次"}},
		{".mai", nil},
		{"p#note", []string{"note y"}},
	} {
		if got := texts(doc.Find(c.sel)); !slices.Equal(got, c.want) {
			t.Errorf("Find(%q) = %q, want %q", c.sel, got, c.want)
		}
	}
	if v := doc.First(`input[name="shown"]`).Attr("value"); v != "a b" {
		t.Errorf("value = %q", v)
	}
	if doc.Has("form") || doc.First("form").Valid() {
		t.Error("found a form the page lacks")
	}
	if got := texts(doc.Remove("table").Find("a")); !slices.Equal(got, []string{"y"}) {
		t.Errorf("after Remove: %q", got)
	}
	if got := texts(Fragment(t, `<td class="c">x</td><div>y</div>`).Find("div")); !slices.Equal(got, []string{"y"}) {
		t.Errorf("Fragment: %q", got)
	}
}
