package entratoken

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLoggerTellsDecisionsNotTokens: the logger hears a fetch and a cache
// hit, each with the expiry, and never the token.
func TestLoggerTellsDecisionsNotTokens(t *testing.T) {
	clk := newClock()
	src := sourceWith(&countingCredential{lifetime: time.Hour, now: clk.now}, clk)
	var lines []string
	src.SetLogger(func(_ context.Context, msg string, fields map[string]any) {
		lines = append(lines, fmt.Sprintf("%s %v", msg, fields))
	})
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || !strings.Contains(lines[0], "token fetched") || !strings.Contains(lines[1], "token served from cache") {
		t.Fatalf("log: %q", lines)
	}
	for _, l := range lines {
		if !strings.Contains(l, "expires_on") || strings.Contains(l, tok.Value) {
			t.Errorf("line without expiry, or with the token: %q", l)
		}
	}
}
