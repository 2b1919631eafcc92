package zoomsim

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Strings a topic or a name may hold that Go's encoder and JavaScript's
// JSON.stringify write differently, and some they write alike.
var trickyStrings = []string{
	"Q&A <見学会> & more",
	"line\u2028separator\u2029paragraph",
	`a literal \u2028 and \u0026 as text`, // backslashes, not escapes
	"quote \" backslash \\ slash /",
	"controls \x00\x01\x1f \b\f\n\r\t del \x7f",
	"snowman ☃ and 😀",
	"bad UTF-8 \xff\xfe end",
	"",
}

// TestWebhookJSONAsJavaScriptWritesIt: a webhook body is written as
// JSON.stringify writes what JSON.parse read from it, byte for byte, so
// that a receiver that verifies the signature over a re-serialized body
// (Zoom's Node SDK does) gets the same bytes.
func TestWebhookJSONAsJavaScriptWritesIt(t *testing.T) {
	var bodies [][]byte
	for _, s := range trickyStrings {
		b, err := webhookJSON(map[string]any{"event": "meeting.created", "event_ts": int64(1900000000123),
			"payload": map[string]any{"object": map[string]any{"id": int64(12345678901), "topic": s, "list": []any{}, "ok": true}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, escaped := range []string{`\u0026`, `\u003c`, `\u003e`, `\u2028`, `\u2029`, `\ufffd`, "\n"} {
			if bytes.Contains(bytes.ReplaceAll(b, []byte(`\\`), nil), []byte(escaped)) {
				t.Errorf("%q: the body holds %q, which JSON.stringify does not write:\n%s", s, escaped, b)
			}
		}
		bodies = append(bodies, b)
	}
	if !bytes.Contains(bodies[1], []byte("line\u2028separator\u2029paragraph")) ||
		!bytes.Contains(bodies[2], []byte(`a literal \\u2028 and \\u0026 as text`)) ||
		!bytes.Contains(bodies[4], []byte(`controls \u0000\u0001\u001f \b\f\n\r\t del `+"\x7f")) {
		t.Errorf("bodies:\n%s\n%s\n%s", bodies[1], bodies[2], bodies[4])
	}

	// The same, checked by JavaScript itself.
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is needed (CI=true): apt-get install -y nodejs")
		}
		t.Skip("node is not installed: the check by JavaScript itself is skipped")
	}
	script := `let s = ""; process.stdin.on("data", d => s += d); process.stdin.on("end", () => {
		for (const line of s.split("\n").filter(Boolean)) {
			const body = Buffer.from(line, "base64").toString("utf8");
			process.stdout.write(JSON.stringify(JSON.stringify(JSON.parse(body)) === body) + "\n");
		}
	});`
	var in strings.Builder
	for _, b := range bodies {
		in.WriteString(base64.StdEncoding.EncodeToString(b) + "\n")
	}
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	got := strings.Fields(string(out))
	if len(got) != len(bodies) {
		t.Fatalf("node answered %q for %d bodies", out, len(bodies))
	}
	for i, ok := range got {
		if ok != "true" {
			t.Errorf("%q: JSON.stringify(JSON.parse(body)) differs from the body:\n%s", trickyStrings[i], bodies[i])
		}
	}
}

// The deliveries themselves are written so: a meeting whose topic needs it,
// and a registrant whose name does.
func TestWebhookBodiesAreJavaScriptStable(t *testing.T) {
	ts, rc := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	out := c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": trickyStrings[0] + trickyStrings[1], "type": 2,
		"start_time": "2030-05-01T10:00:00Z", "settings": map[string]any{"approval_type": 0}})
	c.must(201, "POST", meetingPath(out)+"/registrants", map[string]any{"email": "a@example.org", "first_name": "A&B <C>", "last_name": "\u2028"})
	waitEvents(t, ts, "meeting.created", "meeting.registration_created")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.bodies {
		if !bytes.Contains(b, []byte("&")) || !bytes.Contains(b, []byte("\u2028")) || bytes.Contains(b, []byte(`\u`)) {
			t.Errorf("body not as JSON.stringify writes it:\n%s", b)
		}
	}
}
