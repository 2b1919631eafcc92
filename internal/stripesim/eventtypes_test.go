package stripesim

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"slices"
	"testing"
)

var updateEventTypes = flag.Bool("update-event-types", false, "rewrite eventtypes_gen.go from spec3.json")

// specEventTypes reads the enum of enabled_events of PostWebhookEndpoints
// from spec3.json.
func specEventTypes(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../../shared/stripe/spec3.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]struct {
							Items struct {
								Enum []string `json:"enum"`
							} `json:"items"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	op := spec.Paths["/v1/webhook_endpoints"]["post"]
	if op.OperationID != "PostWebhookEndpoints" {
		t.Fatalf("POST /v1/webhook_endpoints is %q in spec3.json", op.OperationID)
	}
	enum := op.RequestBody.Content["application/x-www-form-urlencoded"].Schema.Properties["enabled_events"].Items.Enum
	if len(enum) == 0 {
		t.Fatal("no enum for enabled_events in spec3.json")
	}
	return enum
}

// eventTypesSource is eventtypes_gen.go for these names.
func eventTypesSource(t *testing.T, names []string) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated from ../shared/stripe/spec3.json (the enum of enabled_events of\n")
	b.WriteString("// PostWebhookEndpoints) by go test -run TestEventTypesMatchSpec -update-event-types. DO NOT EDIT.\n\n")
	b.WriteString("package stripesim\n\n")
	b.WriteString("// stripeEventTypes are the names a webhook endpoint's enabled_events may\n")
	b.WriteString("// hold, \"*\" (every event) included.\n")
	b.WriteString("var stripeEventTypes = []string{\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q,\n", n)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestEventTypesMatchSpec keeps eventtypes_gen.go equal to spec3.json's
// list, and the events the simulator sends in it.
func TestEventTypesMatchSpec(t *testing.T) {
	names := specEventTypes(t)
	want := eventTypesSource(t, names)
	if *updateEventTypes {
		if err := os.WriteFile("eventtypes_gen.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("eventtypes_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("eventtypes_gen.go differs from spec3.json; run go test -run TestEventTypesMatchSpec -update-event-types")
	}
	if !slices.Equal(stripeEventTypes, names) {
		t.Errorf("stripeEventTypes has %d names, spec3.json %d", len(stripeEventTypes), len(names))
	}
	for _, e := range knownEvents {
		if !slices.Contains(stripeEventTypes, e) {
			t.Errorf("the simulator sends %s, which spec3.json does not know", e)
		}
	}
}
