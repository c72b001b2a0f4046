package pgaad

import "testing"

// TestHostPort: host and port as a URL's host, IPv6 addresses bracketed
// once whether or not the setting has the brackets.
func TestHostPort(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"orders-pg.postgres.database.azure.com", 5432, "orders-pg.postgres.database.azure.com:5432"},
		{"localhost", 6432, "localhost:6432"},
		{"::1", 5432, "[::1]:5432"},
		{"[::1]", 5432, "[::1]:5432"},
		{"fe80::1%eth0", 5432, "[fe80::1%eth0]:5432"},
	} {
		if got := hostPort(tc.host, tc.port); got != tc.want {
			t.Errorf("hostPort(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}
