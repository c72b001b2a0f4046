package pgtest

import (
	"strings"
	"unicode/utf8"
)

// LongName is a unique name of exactly n bytes (PostgreSQL's limit is 63):
// prefix, padded with "é" (two bytes each) and "x", then the unique suffix
// of Name. It never splits a character.
func LongName(prefix string, n int) string {
	suffix := Name("")
	pad := n - len(prefix) - len(suffix)
	if pad < 0 {
		// Keep the unique suffix; cut the prefix at a character boundary.
		cut := n - len(suffix)
		for cut > 0 && !utf8.RuneStart(prefix[cut]) {
			cut--
		}
		return prefix[:max(cut, 0)] + strings.Repeat("x", n-len(suffix)-max(cut, 0)) + suffix
	}
	return prefix + strings.Repeat("é", pad/2) + strings.Repeat("x", pad%2) + suffix
}
