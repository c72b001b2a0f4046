package pgaad_test

import (
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

const (
	oid    = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05"
	tenant = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
)

const otherOID = "0b9e6a52-1c3d-4e5f-8a7b-9c0d1e2f3a4b"

func TestParseLabels(t *testing.T) {
	cases := []struct {
		name, label, labelInt string
		want                  pgaad.Labels
	}{
		{"current form, user", "aadauth", "type=user,oid=" + oid + ",tenant_id=" + tenant,
			pgaad.Labels{Entra: true, Type: "user", ObjectID: oid, TenantID: tenant}},
		{"current form, admin and mfa", "aadauth,admin,mfa", "type=service,oid=" + oid + ",tenant_id=" + tenant + ",admin",
			pgaad.Labels{Entra: true, Type: "service", ObjectID: oid, TenantID: tenant, Admin: true, MFA: true}},
		{"current form, admin only in the internal label", "aadauth", "type=group,oid=" + oid + ",tenant_id=" + tenant + ",admin",
			pgaad.Labels{Entra: true, Type: "group", ObjectID: oid, TenantID: tenant, Admin: true}},
		{"older single label", "aadauth,oid=" + oid + ",type=group", "",
			pgaad.Labels{Entra: true, Type: "group", ObjectID: oid}},
		{"older single label, admin", "aadauth,oid=" + oid + ",type=user,admin", "",
			pgaad.Labels{Entra: true, Type: "user", ObjectID: oid, Admin: true}},
		{"spaces and upper case", " AADAUTH , MFA ", " Type = User , OID = " + strings.ToUpper(oid) + " ",
			pgaad.Labels{Entra: true, Type: "user", ObjectID: oid, MFA: true}},
		{"unknown tokens ignored", "aadauth,future,x=y", "type=user,oid=" + oid + ",colour=blue",
			pgaad.Labels{Entra: true, Type: "user", ObjectID: oid}},
		{"first value wins, and the disagreement is told", "aadauth,type=user", "type=group",
			pgaad.Labels{Entra: true, Type: "user", Conflict: "type=user in pgaadauth but type=group in pgaadauth-int"}},
		// Public role dumps show both forms on one role: the oid in both labels.
		{"both forms, agreeing", "aadauth,oid=" + oid + ",type=service,admin", "type=service,oid=" + strings.ToUpper(oid) + ",tenant_id=" + tenant + ",admin",
			pgaad.Labels{Entra: true, Type: "service", ObjectID: oid, TenantID: tenant, Admin: true}},
		{"both forms, another oid", "aadauth,oid=" + oid + ",type=user", "type=user,oid=" + otherOID + ",tenant_id=" + tenant,
			pgaad.Labels{Entra: true, Type: "user", ObjectID: oid, TenantID: tenant,
				Conflict: "oid=" + oid + " in pgaadauth but oid=" + otherOID + " in pgaadauth-int"}},
		{"no labels: plain role", "", "", pgaad.Labels{}},
		{"internal label alone is not an Entra role", "", "aadauth,type=user,oid=" + oid,
			pgaad.Labels{Type: "user", ObjectID: oid}},
		{"empty tokens", ",,aadauth,,", ",,", pgaad.Labels{Entra: true}},
		{"value with equals sign", "aadauth", "oid=a=b", pgaad.Labels{Entra: true, ObjectID: "a=b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pgaad.ParseLabels(tc.label, tc.labelInt); got != tc.want {
				t.Errorf("ParseLabels(%q, %q)\n got %+v\nwant %+v", tc.label, tc.labelInt, got, tc.want)
			}
		})
	}
}

// FuzzParseLabels checks that any label parses without panicking, that the
// values never carry a separator, and that what Azure writes reads back.
func FuzzParseLabels(f *testing.F) {
	f.Add("aadauth", "type=user,oid="+oid+",tenant_id="+tenant, "user", false, false)
	f.Add("aadauth,admin,mfa", "type=service,oid="+oid+",tenant_id="+tenant+",admin", "service", true, true)
	f.Add("aadauth,oid="+oid+",type=group", "", "group", false, true)
	f.Add("", "", "", false, false)
	f.Add(",,=,=,", "type==,oid=,", "x", true, false)
	f.Add("aadauth\x00", "type=\xff", "usér", false, false)
	f.Fuzz(func(t *testing.T, label, labelInt, typ string, admin, mfa bool) {
		l := pgaad.ParseLabels(label, labelInt)
		for _, v := range []string{l.Type, l.ObjectID, l.TenantID} {
			if strings.Contains(v, ",") {
				t.Fatalf("value %q contains a separator (labels %q, %q)", v, label, labelInt)
			}
		}
		if l != pgaad.ParseLabels(label, labelInt) {
			t.Fatal("not deterministic")
		}
		// Round trip of the current form, for a type as Azure writes it.
		if strings.ContainsAny(typ, ",= \t\n\v\f\r\u0085\u00A0") || typ == "" || strings.ToLower(typ) != typ {
			return
		}
		main := "aadauth"
		internal := "type=" + typ + ",oid=" + oid + ",tenant_id=" + tenant
		if admin {
			main += ",admin"
			internal += ",admin"
		}
		if mfa {
			main += ",mfa"
		}
		want := pgaad.Labels{Entra: true, Type: typ, ObjectID: oid, TenantID: tenant, Admin: admin, MFA: mfa}
		if got := pgaad.ParseLabels(main, internal); got != want {
			t.Fatalf("round trip: got %+v want %+v", got, want)
		}
	})
}

// TestRelabelPrincipal: admin and mfa are set in the form the labels have,
// every other token kept in its place.
func TestRelabelPrincipal(t *testing.T) {
	for _, c := range []struct {
		label, labelInt       string
		admin, mfa            bool
		wantLabel, wantLabInt string
	}{
		{"aadauth", "type=user,oid=o,tenant_id=t", true, false, "aadauth,admin", "type=user,oid=o,tenant_id=t,admin"},
		{"aadauth,admin,mfa", "type=user,oid=o,tenant_id=t,admin", false, false, "aadauth", "type=user,oid=o,tenant_id=t"},
		{"aadauth,admin", "type=group,oid=o,tenant_id=t,admin", false, true, "aadauth,mfa", "type=group,oid=o,tenant_id=t"},
		// The older single label: oid and type stay, admin and mfa at the end.
		{"aadauth,oid=o,type=service,admin", "", false, true, "aadauth,oid=o,type=service,mfa", ""},
		// An unknown token of a newer server stays where it is.
		{"aadauth, MFA ,future", "type=user,oid=o,tenant_id=t,x=1", true, true, "aadauth,future,admin,mfa", "type=user,oid=o,tenant_id=t,x=1,admin"},
	} {
		gotLabel, gotInt := pgaad.Relabel(c.label, c.labelInt, c.admin, c.mfa)
		if gotLabel != c.wantLabel || gotInt != c.wantLabInt {
			t.Errorf("Relabel(%q, %q, %t, %t) = %q, %q; want %q, %q", c.label, c.labelInt, c.admin, c.mfa, gotLabel, gotInt, c.wantLabel, c.wantLabInt)
		}
		l := pgaad.ParseLabels(gotLabel, gotInt)
		if !l.Entra || l.Admin != c.admin || l.MFA != c.mfa {
			t.Errorf("Relabel(%q, %q, %t, %t) parses as %+v", c.label, c.labelInt, c.admin, c.mfa, l)
		}
	}
}
