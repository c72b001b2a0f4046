package stubproviders

import (
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestStandInFillUnknown: a planned resource's unknown values become the
// file's values (by the block's name, or "*"), made-up ones otherwise;
// known values stay as planned.
func TestStandInFillUnknown(t *testing.T) {
	identity := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"type": tftypes.String, "principal_id": tftypes.String}}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"id": tftypes.String, "name": tftypes.String, "fqdn": tftypes.String, "port": tftypes.Number,
		"identity": tftypes.List{ElementType: identity}, "output": tftypes.DynamicPseudoType,
	}}
	unknown := func(t tftypes.Type) tftypes.Value { return tftypes.NewValue(t, tftypes.UnknownValue) }
	plan := tftypes.NewValue(typ, map[string]tftypes.Value{
		"id": unknown(tftypes.String), "name": tftypes.NewValue(tftypes.String, "orders-pg"),
		"fqdn": unknown(tftypes.String), "port": unknown(tftypes.Number),
		"identity": tftypes.NewValue(tftypes.List{ElementType: identity}, []tftypes.Value{tftypes.NewValue(identity, map[string]tftypes.Value{
			"type": tftypes.NewValue(tftypes.String, "SystemAssigned"), "principal_id": unknown(tftypes.String),
		})}),
		"output": unknown(tftypes.DynamicPseudoType),
	})
	s := StandInValues{"azurerm_postgresql_flexible_server": {
		"orders-pg": {"fqdn": "localhost", "identity.0.principal_id": "5c1d0e2a"},
		"*":         {"output": map[string]any{"identity": map[string]any{"principalId": "5c1d0e2a"}}},
	}}
	got, err := s.fillUnknown("azurerm_postgresql_flexible_server", plan)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"fqdn": `"localhost"`, "identity[0].principal_id": `"5c1d0e2a"`, "identity[0].type": `"SystemAssigned"`,
		"port": "0", "output.identity.principalId": `"5c1d0e2a"`,
		"id": `"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/stand-in/providers/azurerm_postgresql_flexible_server/orders-pg"`,
	}
	paths := map[string]*tftypes.AttributePath{
		"fqdn":                        tftypes.NewAttributePath().WithAttributeName("fqdn"),
		"identity[0].principal_id":    tftypes.NewAttributePath().WithAttributeName("identity").WithElementKeyInt(0).WithAttributeName("principal_id"),
		"identity[0].type":            tftypes.NewAttributePath().WithAttributeName("identity").WithElementKeyInt(0).WithAttributeName("type"),
		"port":                        tftypes.NewAttributePath().WithAttributeName("port"),
		"output.identity.principalId": tftypes.NewAttributePath().WithAttributeName("output").WithAttributeName("identity").WithAttributeName("principalId"),
		"id":                          tftypes.NewAttributePath().WithAttributeName("id"),
	}
	for name, p := range paths {
		v, _, err := tftypes.WalkAttributePath(got, p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		val := v.(tftypes.Value)
		var shown string
		switch {
		case val.Type().Is(tftypes.Number):
			var f big.Float
			_ = val.As(&f)
			shown = f.String()
		default:
			var s string
			_ = val.As(&s)
			shown = `"` + s + `"`
		}
		if shown != want[name] {
			t.Errorf("%s = %s, want %s", name, shown, want[name])
		}
	}
	if !got.IsFullyKnown() {
		t.Errorf("unknown values are left: %v", got)
	}
}

// TestStandInOff: without StandInEnv the stubs refuse to apply or read.
func TestStandInOff(t *testing.T) {
	t.Setenv(StandInEnv, "")
	if s, err := loadStandIn(); s != nil || err != nil {
		t.Fatalf("loadStandIn() = %v, %v without %s", s, err, StandInEnv)
	}
}
