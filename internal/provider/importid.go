package provider

import (
	"fmt"
	"strings"
)

// Import IDs of the access resources (azurepg_grant, azurepg_default_privileges):
// names joined by "/". Role, database, schema and object names may hold any
// character, "/" included, so inside a field only two characters are
// escaped: "%" is written "%25" and "/" is written "%2F". Everything else
// (@, spaces, quotes, non-ASCII) is written as it is, so usual names read as
// they are. The same format as azurepg_role_membership's (access-a's
// import_id.go); these helpers take a variable number of fields, which a
// grant's list of objects needs.
// TODO(lead): one codec for both when access-a's lands.

var importFieldEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

// joinImportID escapes each field and joins them with "/".
func joinImportID(fields ...string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = importFieldEscaper.Replace(f)
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
		s, err := unescapeImportIDField(p)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", i+1, err)
		}
		parts[i] = s
	}
	return parts, nil
}

func unescapeImportIDField(p string) (string, error) {
	if !strings.Contains(p, "%") {
		return p, nil
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		switch esc := p[i:min(i+3, len(p))]; strings.ToUpper(esc) {
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

// importIDEscaping is how the docs explain the escaping.
const importIDEscaping = "The fields are joined by `/`. Inside a field only two characters are escaped: " +
	"`%` is written `%25` and `/` is written `%2F`; every other character (`@`, spaces, quotes, non-ASCII) " +
	"is written as it is."
