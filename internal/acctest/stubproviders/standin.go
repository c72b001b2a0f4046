package stubproviders

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// StandInEnv names the environment variable that turns the stubs into
// stand-ins, for tests that apply a page of the docs against the emulator
// (TestGuidesApply): resources and data sources of azurerm, azapi and
// cyrilgdn/postgresql are then created, read, updated and deleted in the
// state only, never anywhere else, and their computed values come from the
// JSON file the variable names, or are made up. Without the variable, every
// such call is an error, as for terraform validate.
//
// The file maps a type to the value of the block's "name" argument ("*" for
// any name) to attribute paths and their values:
//
//	{"azurerm_user_assigned_identity": {"orders-api": {"principal_id": "6f2b..."}},
//	 "azurerm_postgresql_flexible_server": {"*": {"fqdn": "localhost", "identity.0.principal_id": "..."}}}
//
// A path names attributes and blocks by name and list elements by index,
// joined with dots. A computed value that the file does not give is made up:
// "id" an ARM-like id from the type and name, other strings "stand-in",
// numbers 0, booleans false, collections empty.
const StandInEnv = "AZUREPG_STUB_STANDIN"

// StandInValues is the content of the file StandInEnv names.
type StandInValues map[string]map[string]map[string]any

var (
	standInOnce sync.Once
	standIn     StandInValues
	standInErr  error
)

// loadStandIn reads the file StandInEnv names; nil when it is not set.
func loadStandIn() (StandInValues, error) {
	standInOnce.Do(func() {
		file := os.Getenv(StandInEnv)
		if file == "" {
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			standInErr = err
			return
		}
		standIn = StandInValues{}
		if err := json.Unmarshal(b, &standIn); err != nil {
			standInErr = fmt.Errorf("%s: %w", file, err)
		}
	})
	return standIn, standInErr
}

// lookup is the value the file gives for path in a block of type typ named name.
func (s StandInValues) lookup(typ, name, path string) (any, bool) {
	for _, n := range []string{name, "*"} {
		if v, ok := s[typ][n][path]; ok {
			return v, true
		}
	}
	return nil, false
}

// nameOf is the value of the top-level "name" argument, "" when it has none.
func nameOf(v tftypes.Value) string {
	var attrs map[string]tftypes.Value
	if v.IsNull() || !v.IsKnown() || v.As(&attrs) != nil {
		return ""
	}
	var name string
	if n, ok := attrs["name"]; ok && n.IsKnown() && !n.IsNull() && n.As(&name) == nil {
		return name
	}
	return ""
}

// pathKey spells an attribute path as the file does: names and indexes joined by dots.
func pathKey(p *tftypes.AttributePath) string {
	var parts []string
	for _, s := range p.Steps() {
		switch s := s.(type) {
		case tftypes.AttributeName:
			parts = append(parts, string(s))
		case tftypes.ElementKeyInt:
			parts = append(parts, strconv.FormatInt(int64(s), 10))
		case tftypes.ElementKeyString:
			parts = append(parts, string(s))
		default:
			parts = append(parts, "*")
		}
	}
	return strings.Join(parts, ".")
}

// fillUnknown replaces every unknown value in v (a planned resource) with
// the file's value or a made-up one: what a provider returns after apply.
func (s StandInValues) fillUnknown(typ string, v tftypes.Value) (tftypes.Value, error) {
	name := nameOf(v)
	return tftypes.Transform(v, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		return s.valueFor(typ, name, p, v.Type())
	})
}

// fillComputed sets the computed attributes that the configuration of a
// data source leaves null (top-level ones: what the docs read).
func (s StandInValues) fillComputed(typ string, sc Schema, v tftypes.Value) (tftypes.Value, error) {
	name := nameOf(v)
	return tftypes.Transform(v, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		steps := p.Steps()
		if len(steps) != 1 || !v.IsNull() {
			return v, nil
		}
		attr, _ := steps[0].(tftypes.AttributeName)
		if a, ok := sc.Attrs[string(attr)]; (ok && a.Computed) || attr == "id" {
			return s.valueFor(typ, name, p, v.Type())
		}
		return v, nil
	})
}

func (s StandInValues) valueFor(typ, name string, p *tftypes.AttributePath, t tftypes.Type) (tftypes.Value, error) {
	key := pathKey(p)
	if j, ok := s.lookup(typ, name, key); ok {
		return fromJSON(t, j)
	}
	if key == "id" {
		return tftypes.NewValue(tftypes.String, fmt.Sprintf("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/stand-in/providers/%s/%s", typ, name)), nil
	}
	return zero(t), nil
}

// zero is a made-up known value of type t.
func zero(t tftypes.Type) tftypes.Value {
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, "stand-in")
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, new(big.Float))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, false)
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}), t.Is(tftypes.Tuple{}):
		return tftypes.NewValue(t, []tftypes.Value{})
	case t.Is(tftypes.Map{}):
		return tftypes.NewValue(t, map[string]tftypes.Value{})
	case t.Is(tftypes.Object{}):
		attrs := map[string]tftypes.Value{}
		for n, at := range t.(tftypes.Object).AttributeTypes {
			attrs[n] = zero(at)
		}
		return tftypes.NewValue(t, attrs)
	}
	return tftypes.NewValue(t, nil) // dynamic: a known null
}

// fromJSON converts a value of the file to type t (a dynamic type takes
// the JSON value's own shape).
func fromJSON(t tftypes.Type, j any) (tftypes.Value, error) {
	if t.Is(tftypes.DynamicPseudoType) {
		t = jsonType(j)
	}
	if j == nil {
		return tftypes.NewValue(t, nil), nil
	}
	switch {
	case t.Is(tftypes.String):
		s, ok := j.(string)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("stand-in value %v is not a string", j)
		}
		return tftypes.NewValue(t, s), nil
	case t.Is(tftypes.Number):
		f, ok := j.(float64)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("stand-in value %v is not a number", j)
		}
		return tftypes.NewValue(t, big.NewFloat(f)), nil
	case t.Is(tftypes.Bool):
		b, ok := j.(bool)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("stand-in value %v is not a bool", j)
		}
		return tftypes.NewValue(t, b), nil
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}):
		arr, ok := j.([]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("stand-in value %v is not a list", j)
		}
		var elem tftypes.Type
		if l, ok := t.(tftypes.List); ok {
			elem = l.ElementType
		} else {
			elem = t.(tftypes.Set).ElementType
		}
		var out []tftypes.Value
		for _, e := range arr {
			v, err := fromJSON(elem, e)
			if err != nil {
				return tftypes.Value{}, err
			}
			out = append(out, v)
		}
		return tftypes.NewValue(t, out), nil
	case t.Is(tftypes.Tuple{}):
		arr, ok := j.([]any)
		elems := t.(tftypes.Tuple).ElementTypes
		if !ok || len(arr) != len(elems) {
			return tftypes.Value{}, fmt.Errorf("stand-in value %v is not a tuple of %d", j, len(elems))
		}
		var out []tftypes.Value
		for i, e := range arr {
			v, err := fromJSON(elems[i], e)
			if err != nil {
				return tftypes.Value{}, err
			}
			out = append(out, v)
		}
		return tftypes.NewValue(t, out), nil
	case t.Is(tftypes.Map{}), t.Is(tftypes.Object{}):
		obj, ok := j.(map[string]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("stand-in value %v is not an object", j)
		}
		out := map[string]tftypes.Value{}
		if m, ok := t.(tftypes.Map); ok {
			for k, e := range obj {
				v, err := fromJSON(m.ElementType, e)
				if err != nil {
					return tftypes.Value{}, err
				}
				out[k] = v
			}
			return tftypes.NewValue(t, out), nil
		}
		for k, at := range t.(tftypes.Object).AttributeTypes {
			v, err := fromJSON(at, obj[k])
			if err != nil {
				return tftypes.Value{}, err
			}
			out[k] = v
		}
		return tftypes.NewValue(t, out), nil
	}
	return tftypes.Value{}, fmt.Errorf("stand-in value %v: type %s not supported", j, t)
}

// jsonType is the type a JSON value has in a dynamic attribute: objects
// and arrays as objects and tuples.
func jsonType(j any) tftypes.Type {
	switch j := j.(type) {
	case string:
		return tftypes.String
	case float64:
		return tftypes.Number
	case bool:
		return tftypes.Bool
	case []any:
		var elems []tftypes.Type
		for _, e := range j {
			elems = append(elems, jsonType(e))
		}
		return tftypes.Tuple{ElementTypes: elems}
	case map[string]any:
		keys := make([]string, 0, len(j))
		for k := range j {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := map[string]tftypes.Type{}
		for _, k := range keys {
			attrs[k] = jsonType(j[k])
		}
		return tftypes.Object{AttributeTypes: attrs}
	}
	return tftypes.DynamicPseudoType
}
