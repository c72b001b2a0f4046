package pgaad

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestRetryReason: fixed cases of what happened and whether it runs again.
// The end-to-end behaviour (connections killed under reads, writes and
// COMMITs) is in reliability_test.go, against the emulator.
func TestRetryReason(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code, Message: "m"})
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"no error", context.Background(), nil, ""},
		{"serialization failure", context.Background(), pg("40001"), "SQLSTATE 40001"},
		{"deadlock", context.Background(), pg("40P01"), "SQLSTATE 40P01"},
		{"admin shutdown", context.Background(), pg("57P01"), "SQLSTATE 57P01"},
		{"crash shutdown", context.Background(), pg("57P02"), "SQLSTATE 57P02"},
		{"duplicate object", context.Background(), pg("42710"), ""},
		{"internal error", context.Background(), pg("XX000"), ""},
		{"catalog race", context.Background(), fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "XX000", Message: "cache lookup failed for type 18844"}),
			"catalog changed under the statement (SQLSTATE XX000)"},
		{"Azure's XX000 refusal", context.Background(), fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "XX000",
			Message: "Could not validate AAD user because its object id does not exist"}), ""},
		{"Entra validation", context.Background(), pg("0LP01"), ""},
		{"permission denied", context.Background(), pg("42501"), ""},
		// Class 08 without a closed connection: the server said it, the
		// connection is alive, nothing says the statement did not run.
		{"connection exception reported", context.Background(), pg("08006"), ""},
		// An I/O failure alone does not say whether anything was sent; the
		// connection being closed (not known here: nil) does.
		{"unexpected EOF, connection unknown", context.Background(), fmt.Errorf("x: %w", io.ErrUnexpectedEOF), ""},
		{"failure to connect", context.Background(), &pgconn.ConnectError{}, ""},
		{"context canceled", canceled, pg("40001"), ""},
		{"message text is not a reason", context.Background(), errors.New("terminating connection due to administrator command"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryReason(tc.ctx, tc.err, nil); got != tc.want {
				t.Fatalf("retryReason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
