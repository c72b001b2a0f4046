package provider

import (
	"fmt"
	"strings"
)

// The import IDs of azurepg_grant and azurepg_default_privileges use the
// format of import_id.go (fields joined by "/", "%" and "/" inside a field
// escaped as %25 and %2F), with a variable number of fields: a grant lists
// its objects, and default privileges may have a schema.

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
