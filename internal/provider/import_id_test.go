package provider

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var membershipIDTest = importIDFormat{"role", "member"}

// Names that users really have (written as they are) and hostile ones.
func TestImportIDRoundTrip(t *testing.T) {
	for _, c := range []struct {
		fields []string
		id     string
	}{
		{[]string{"orders_readers", "alice@contoso.com"}, "orders_readers/alice@contoso.com"},
		{[]string{"DBA Team", "Zoë's \"app\"; DROP ROLE x"}, "DBA Team/Zoë's \"app\"; DROP ROLE x"},
		{[]string{"a/b", "50%"}, "a%2Fb/50%25"},
		{[]string{"%2F", "/"}, "%252F/%2F"},
		{[]string{"//", "%%"}, "%2F%2F/%25%25"},
		{[]string{"數據 團隊", "\u00a0\t\n"}, "數據 團隊/\u00a0\t\n"},
		{[]string{strings.Repeat("é", 31) + "x", strings.Repeat("/", 63)}, strings.Repeat("é", 31) + "x/" + strings.Repeat("%2F", 63)},
	} {
		id := membershipIDTest.Encode(c.fields...)
		if id != c.id {
			t.Errorf("Encode(%q) = %q, want %q", c.fields, id, c.id)
		}
		got, err := membershipIDTest.Decode(id)
		if err != nil || len(got) != 2 || got[0] != c.fields[0] || got[1] != c.fields[1] {
			t.Errorf("Decode(%q) = %q, %v; want %q", id, got, err, c.fields)
		}
	}
	// Lower-case escapes, as someone may type them, are accepted too.
	if got, err := membershipIDTest.Decode("a%2fb/c%25"); err != nil || got[0] != "a/b" || got[1] != "c%" {
		t.Errorf("lower-case escapes: %q, %v", got, err)
	}
	if s := membershipIDTest.String(); s != "<role>/<member>" {
		t.Errorf("format %q", s)
	}
}

func TestImportIDRejects(t *testing.T) {
	for _, c := range []struct{ id, says string }{
		{"", "it has 1 field(s)"},
		{"onlyrole", "it has 1 field(s)"},
		{"a/b/c", "it has 3 field(s)"},
		{"a/", "the field <member> is empty"},
		{"/b", "the field <role> is empty"},
		{"a%/b", `"%" is not an escape`}, // split first: the "%" ends the field
		{"a%2/b", `"%2" is not an escape`},
		{"a/b%41", `in the field <member>: "%41" is not an escape`},
		{"a/%zz", `"%zz" is not an escape`},
	} {
		_, err := membershipIDTest.Decode(c.id)
		if err == nil {
			t.Errorf("Decode(%q) succeeded", c.id)
			continue
		}
		msg := err.Error()
		for _, want := range []string{c.says, "<role>/<member>", "%25", "%2F", "joined by /"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Decode(%q): error does not say %q:\n%s", c.id, want, msg)
			}
		}
	}
}

// FuzzImportID: any fields (without NUL, which no name can hold) come back
// exactly, and the ID has exactly one "/" per separator.
func FuzzImportID(f *testing.F) {
	for _, s := range [][2]string{
		{"r", "m"}, {"a/b", "c%d"}, {"%2F", "%25"}, {"Zoë \"x\"; y", "alice@contoso.com"}, {"%", "/"}, {"數", "%%2f/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, role, member string) {
		if role == "" || member == "" || !utf8.ValidString(role+member) {
			t.Skip()
		}
		id := membershipIDTest.Encode(role, member)
		if n := strings.Count(id, "/"); n != 1 {
			t.Fatalf("Encode(%q, %q) = %q has %d separators", role, member, id, n)
		}
		got, err := membershipIDTest.Decode(id)
		if err != nil || got[0] != role || got[1] != member {
			t.Fatalf("Decode(Encode(%q, %q)) = %q, %v", role, member, got, err)
		}
	})
}
