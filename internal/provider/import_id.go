package provider

import (
	"fmt"
	"strings"
)

// importIDFormat is the import ID (and id) of a resource named by several
// names: the fields joined by "/". Role, database and schema names may hold
// any character, "/" included, so inside a field "%" is written "%25" and
// "/" is written "%2F"; nothing else is escaped, so that the usual names
// (alice@contoso.com, DBA Team, "ö") read as they are. Its elements name the
// fields, e.g. {"role", "member"}.
type importIDFormat []string

// importIDEscapeNote is how the docs of every resource with such an ID
// explain the escaping.
const importIDEscapeNote = "The fields are joined by `/`. Inside a field only two characters are escaped: " +
	"`%` is written `%25` and `/` is written `%2F`; every other character (`@`, spaces, quotes, non-ASCII) " +
	"is written as it is."

// String is the format as the docs and errors show it: "<role>/<member>".
func (f importIDFormat) String() string {
	parts := make([]string, len(f))
	for i, name := range f {
		parts[i] = "<" + name + ">"
	}
	return strings.Join(parts, "/")
}

var importIDEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

// Encode joins the fields, escaped. It panics on a wrong count: that is a
// programming error, not a user's.
func (f importIDFormat) Encode(fields ...string) string {
	if len(fields) != len(f) {
		panic(fmt.Sprintf("import ID %s: %d fields given", f, len(fields)))
	}
	parts := make([]string, len(fields))
	for i, s := range fields {
		parts[i] = importIDEscaper.Replace(s)
	}
	return strings.Join(parts, "/")
}

// Decode splits an ID into its fields. A wrong number of fields, an empty
// field or an escape other than %25 and %2F (either case) is an error that
// shows the expected format.
func (f importIDFormat) Decode(id string) ([]string, error) {
	parts := strings.Split(id, "/")
	if len(parts) != len(f) {
		return nil, f.errorf(id, "it has %d field(s) separated by \"/\", want %d", len(parts), len(f))
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		if p == "" {
			return nil, f.errorf(id, "the field <%s> is empty", f[i])
		}
		s, err := unescapeImportField(p)
		if err != nil {
			return nil, f.errorf(id, "in the field <%s>: %v", f[i], err)
		}
		out[i] = s
	}
	return out, nil
}

func unescapeImportField(p string) (string, error) {
	if !strings.Contains(p, "%") {
		return p, nil
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		esc := p[i:min(i+3, len(p))]
		switch strings.ToUpper(esc) {
		case "%25":
			b.WriteByte('%')
		case "%2F":
			b.WriteByte('/')
		default:
			return "", fmt.Errorf("%q is not an escape: only %%25 (for %%) and %%2F (for /) are", esc)
		}
		i += 2
	}
	return b.String(), nil
}

func (f importIDFormat) errorf(id, format string, args ...any) error {
	return fmt.Errorf("the import ID %q is not %s: %s.\n\n%s",
		id, f, fmt.Sprintf(format, args...), strings.ReplaceAll(importIDEscapeNote, "`", ""))
}

// The import IDs of azurepg_grant and azurepg_default_privileges use the
// same format with a variable number of fields: a grant lists its objects,
// and default privileges may have a schema.

// joinImportID escapes each field and joins them with "/".
func joinImportID(fields ...string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = importIDEscaper.Replace(f)
	}
	return strings.Join(parts, "/")
}

// splitImportID splits at "/" and unescapes each field. An empty field or
// an escape other than %25 and %2F (either case) is an error.
func splitImportID(id string) ([]string, error) {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("field %d is empty", i+1)
		}
		s, err := unescapeImportField(p)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", i+1, err)
		}
		parts[i] = s
	}
	return parts, nil
}

// importIDEscaping is how the docs explain the escaping.
const importIDEscaping = importIDEscapeNote
