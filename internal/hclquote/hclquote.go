// Package hclquote writes Go strings as HCL string literals, for the HCL
// that error messages suggest (import blocks, resources to add) and tests.
package hclquote

import (
	"fmt"
	"strings"
)

// String is s as an HCL string literal: quotes, backslashes and control
// characters escaped, and template sequences (${ and %{) doubled, so that
// Terraform reads back exactly s.
func String(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r) // $${ and %%{ are a literal ${ and %{
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
