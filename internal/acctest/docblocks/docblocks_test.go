package docblocks

import (
	"fmt"
	"testing"
)

func TestMatch(t *testing.T) {
	got := "x\n  # a will be created\n  + b = 1   \n\nPlan: 1 to add\ny\n"
	for _, c := range []struct {
		want string
		ok   bool
	}{
		{"  # a will be created\n  + b = 1\n", true},
		{"\n  + b = 1\n\nPlan: 1 to add\n", true},
		{"  # a will be created\n...\nPlan: 1 to add", true},
		{"  # a will be created\nPlan: 1 to add", false}, // not next to each other
		{"Plan: 1 to add\n...\n  + b = 1", false},        // not in order
		{"  + b = 2", false},
	} {
		if err := Match(c.want, got); (err == nil) != c.ok {
			t.Errorf("Match(%q) = %v, want ok = %t", c.want, err, c.ok)
		}
	}
}

func TestRead(t *testing.T) {
	page := "# T\n\n<!-- guide-test: skip ARM; the reason goes on; config x -->\n```terraform\nresource \"a\" \"b\" {}\n```\n\n```sh\nls\n```\n"
	got, err := Read(page)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Line: 5, Lang: "terraform", Text: "resource \"a\" \"b\" {}\n", Directives: []Directive{{"skip", "ARM; the reason goes on"}, {"config", "x"}}},
		{Line: 9, Lang: "sh", Text: "ls\n"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Read = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"<!-- guide-test: skip x -->\n", "<!-- guide-test: skipp x -->\n```sh\n```\n", "```sh\nls\n"} {
		if _, err := Read(bad); err == nil {
			t.Errorf("Read(%q) found no error", bad)
		}
	}
}

func TestCheckedBy(t *testing.T) {
	page := "<!-- guide-test: checked-by TestA, which runs it -->\n```sh\na\n```\n<!-- guide-test: checked-by TestAB -->\n```sh\nb\n```\n<!-- guide-test: checked-by TestA -->\n```text\nc\n```\n"
	got, err := CheckedBy(page, "TestA")
	if err != nil || len(got) != 2 || got[0].Text != "a\n" || got[1].Text != "c\n" {
		t.Fatalf("CheckedBy = %+v, %v; want the blocks a and c", got, err)
	}
}

func TestMatchWords(t *testing.T) {
	got := "Error: Role owns objects\n\n  with azurepg_principal.pat,\n\ndropping principal \"pat\": the role\nowns objects:\n  table a (database \"b\")\n"
	if err := MatchWords("Error: Role owns objects\n...\ndropping principal \"pat\": the role owns objects:\n  table a (database \"b\")", got); err != nil {
		t.Error(err)
	}
	if err := MatchWords("dropping principal \"pat\"\n...\nError: Role owns objects", got); err == nil {
		t.Error("text out of order matched")
	}
}
