package pgtest

import "testing"

// AzureAIVersions are the azure_ai versions Azure ships on some PostgreSQL
// major (Microsoft Learn's extension version table), oldest first.
var AzureAIVersions = []string{"1.3.1", "2.0.0"}

// AzureAIVersion is the one azure_ai version Azure ships on a PostgreSQL
// major, per Microsoft Learn's extension version table: 1.3.1 on 12-17,
// 2.0.0 on 18. Tests compare the server against it, so this table is kept
// apart from the emulator's own (a wrong version there fails them). A major
// the table does not cover fails the test.
func AzureAIVersion(t testing.TB, major int) string {
	t.Helper()
	switch {
	case major >= 12 && major <= 17:
		return "1.3.1"
	case major == 18:
		return "2.0.0"
	}
	t.Fatalf("no documented azure_ai version for PostgreSQL %d", major)
	return ""
}

// OtherAzureAIVersions are the versions Azure ships on other majors but not
// on this one: each is a real azure_ai version the server must refuse.
func OtherAzureAIVersions(t testing.TB, major int) []string {
	t.Helper()
	own := AzureAIVersion(t, major)
	var other []string
	for _, v := range AzureAIVersions {
		if v != own {
			other = append(other, v)
		}
	}
	if len(other) == 0 {
		t.Fatalf("AzureAIVersions %v has no version but %s", AzureAIVersions, own)
	}
	return other
}
