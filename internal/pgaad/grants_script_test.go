package pgaad

import (
	"strings"
	"testing"
)

// TestGrantScript: the REVOKE/GRANT statements of a grant, without a server.
// Objects are grouped by owner; an owner whose privileges the login has is
// granted on directly, another is acted as (SET ROLE ... RESET ROLE);
// hostile names are quoted; a savepoint guards a REVOKE that may meet a
// passed-on grant option; a revoke with nothing to check commits in the
// same pipeline.
func TestGrantScript(t *testing.T) {
	target := GrantTarget{Role: `app "r"; ö@x`, Database: "db", ObjectType: ObjectTypeTable, Schema: `s;"x"`}
	objs := []grantObject{
		{name: "a", owner: "mine", direct: true},
		{name: "b", owner: "mine", direct: true},
		{name: `t"; DROP`, owner: `own "o"`, canSet: true},
	}
	full := []string{"DELETE", "INSERT", "SELECT", "UPDATE"}
	one := objs[:1]
	for _, tc := range []struct {
		name        string
		objs        []grantObject // objs when nil
		before      Grant
		privileges  []string
		grantOption bool
		want        string
		check, done bool
	}{
		{
			name: "grant, one owner direct and one acted as", before: Grant{Full: full, Count: 3},
			privileges: []string{"SELECT"},
			want: `REVOKE DELETE, INSERT, UPDATE ON TABLE "s;""x"""."a", "s;""x"""."b" FROM "app ""r""; ö@x";
GRANT SELECT ON TABLE "s;""x"""."a", "s;""x"""."b" TO "app ""r""; ö@x";
SET LOCAL ROLE "own ""o""";
REVOKE DELETE, INSERT, UPDATE ON TABLE "s;""x"""."t""; DROP" FROM "app ""r""; ö@x";
GRANT SELECT ON TABLE "s;""x"""."t""; DROP" TO "app ""r""; ö@x";
RESET ROLE;
`,
		},
		{
			name: "a grant option held somewhere: revoked, under a savepoint", before: Grant{Full: full, Count: 3, GrantOptionAny: true},
			privileges: []string{"SELECT"},
			want: `SAVEPOINT azurepg_revoke;
REVOKE DELETE, INSERT, UPDATE ON TABLE "s;""x"""."a", "s;""x"""."b" FROM "app ""r""; ö@x";
REVOKE GRANT OPTION FOR SELECT ON TABLE "s;""x"""."a", "s;""x"""."b" FROM "app ""r""; ö@x";
GRANT SELECT ON TABLE "s;""x"""."a", "s;""x"""."b" TO "app ""r""; ö@x";
SET LOCAL ROLE "own ""o""";
REVOKE DELETE, INSERT, UPDATE ON TABLE "s;""x"""."t""; DROP" FROM "app ""r""; ö@x";
REVOKE GRANT OPTION FOR SELECT ON TABLE "s;""x"""."t""; DROP" FROM "app ""r""; ö@x";
`,
		},
		{
			name: "first grant on one object: the GRANT alone", objs: one, before: Grant{Full: full, Count: 1},
			privileges: []string{"SELECT", "INSERT"},
			want:       `GRANT SELECT, INSERT ON TABLE "s;""x"""."a" TO "app ""r""; ö@x";` + "\n",
		},
		{
			name: "one object holding what is not wanted: revoked", objs: one,
			before:     Grant{Full: full, Count: 1, Privileges: []string{"SELECT", "UPDATE"}},
			privileges: []string{"SELECT"},
			want: `REVOKE DELETE, INSERT, UPDATE ON TABLE "s;""x"""."a" FROM "app ""r""; ö@x";
GRANT SELECT ON TABLE "s;""x"""."a" TO "app ""r""; ö@x";
`,
		},
		{
			name: "with grant option, after a grant option was held", before: Grant{Full: full, GrantOptionAny: true},
			privileges: []string{"SELECT"}, grantOption: true,
			want: "SAVEPOINT azurepg_revoke;\n", // the rest as above, then RELEASE
		},
		{
			name: "revoke, nothing to check: committed", before: Grant{Full: full},
			want: "REVOKE ALL ON TABLE", done: true,
		},
		{
			name: "revoke, another grantor: checked before COMMIT", before: Grant{Full: full, OtherGrantors: true},
			want: "REVOKE ALL ON TABLE", check: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := objs
			if tc.objs != nil {
				o = tc.objs
			}
			w := grantScript(target, o, tc.before, tc.privileges, tc.grantOption)
			sql := script(w)
			if !strings.HasPrefix(sql, tc.want) {
				t.Errorf("script:\n%s\nwant it to start with:\n%s", sql, tc.want)
			}
			if w.check != tc.check || w.committed != tc.done {
				t.Errorf("check %v, committed %v; want %v, %v", w.check, w.committed, tc.check, tc.done)
			}
			if tc.done != strings.HasSuffix(sql, "COMMIT;\n") {
				t.Errorf("ends with COMMIT: %v, want %v:\n%s", !tc.done, tc.done, sql)
			}
			if tc.before.GrantOptionAny && !strings.HasSuffix(sql, "RELEASE SAVEPOINT azurepg_revoke;\n") {
				t.Errorf("no RELEASE SAVEPOINT at the end:\n%s", sql)
			}
			for _, stmt := range w.stmts {
				// Each goes alone by the extended protocol, which takes one statement.
				if strings.Contains(stmt, ";\n") || strings.HasSuffix(stmt, ";") {
					t.Errorf("statement %q is more than one", stmt)
				}
			}
		})
	}
	if w := grantScript(target, nil, Grant{Full: full}, []string{"SELECT"}, false); len(w.stmts) != 0 || w.committed {
		t.Errorf("no object: %+v, want no SQL", w)
	}
}

// script is a grant's statements, each ended by ";\n".
func script(w grantWrite) string {
	var b strings.Builder
	for _, stmt := range w.stmts {
		b.WriteString(stmt + ";\n")
	}
	return b.String()
}
