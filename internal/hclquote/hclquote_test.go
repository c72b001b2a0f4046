package hclquote

import "testing"

func TestString(t *testing.T) {
	cases := map[string]string{
		"alice@contoso.com":        `"alice@contoso.com"`,
		"O'Brien's Team":           `"O'Brien's Team"`,
		`x"; DROP ROLE admin; --`:  `"x\"; DROP ROLE admin; --"`,
		"josé.núñez@contoso.com":   `"josé.núñez@contoso.com"`,
		`back\slash`:               `"back\\slash"`,
		"${var.x} and %{ if } $ %": `"$${var.x} and %%{ if } $ %"`,
		"tab\tand\nnewline\x01":    `"tab\tand\nnewline\u0001"`,
	}
	for in, want := range cases {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %s, want %s", in, got, want)
		}
	}
}
