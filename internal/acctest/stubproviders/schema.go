// Package stubproviders serves schema-only stubs of the other providers
// that this provider's docs and examples use (azurerm, cyrilgdn/postgresql,
// azapi), so that `terraform validate` can check those pages offline, where
// no registry is reachable.
//
// Each stub declares, for exactly the resource and data source types the docs
// use, the same attributes as the real provider: names, types, required /
// optional / computed, sensitive and write-only, nested blocks with their
// item limits, the enumerations and the conflicts that the real provider
// checks while validating. The schemas were written by hand from the real
// providers' source (the revision is noted beside each one); a stub never
// creates, reads or deletes anything: every such call is an error, unless
// StandInEnv makes the stubs stand-ins that keep their resources in the
// state only (standin.go), for tests that apply the guides.
//
// When the docs start using another type, add its schema here, transcribed
// from the real provider, and name the revision you read.
package stubproviders

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Attr is one attribute. A nil Type is a dynamic attribute (any value).
type Attr struct {
	Type                         attr.Type
	Required, Optional, Computed bool
	Sensitive, WriteOnly         bool
	// OneOf lists the values a string attribute accepts (empty: any).
	OneOf []string
	// Deprecated is the real provider's deprecation message, a warning.
	Deprecated string
}

// Nesting is how a block repeats.
type Nesting int

const (
	// List is a block that may appear Min to Max times (Max 0: no limit).
	List Nesting = iota
	// Set is an unordered repeated block.
	Set
	// Single is a block that appears at most once, without an index.
	Single
)

// Block is a nested block.
type Block struct {
	Nesting  Nesting
	Min, Max int
	Attrs    map[string]Attr
	Blocks   map[string]Block
}

// Schema is the schema of a provider block, resource or data source, with
// the cross-attribute rules the real provider checks at validation.
type Schema struct {
	Attrs  map[string]Attr
	Blocks map[string]Block
	// ExactlyOneOf, Conflicting and RequiredTogether are groups of
	// top-level attribute names.
	ExactlyOneOf, Conflicting, RequiredTogether [][]string
}

// Provider is one stubbed provider.
type Provider struct {
	// TypeName is the provider's local name (azurerm); Source its address.
	TypeName, Source string
	// Protocol is the plugin protocol the real provider speaks (5 or 6).
	Protocol    int
	Config      Schema
	Resources   map[string]Schema
	DataSources map[string]Schema
}

// Shorthands for the attribute types used below.
var (
	str   attr.Type = types.StringType
	boolT attr.Type = types.BoolType
	intT  attr.Type = types.Int64Type
)

func listOf(t attr.Type) attr.Type { return types.ListType{ElemType: t} }
func setOf(t attr.Type) attr.Type  { return types.SetType{ElemType: t} }
func mapOf(t attr.Type) attr.Type  { return types.MapType{ElemType: t} }

func objectOf(attrs map[string]attr.Type) attr.Type {
	return types.ObjectType{AttrTypes: attrs}
}

func required(t attr.Type) Attr         { return Attr{Type: t, Required: true} }
func optional(t attr.Type) Attr         { return Attr{Type: t, Optional: true} }
func computed(t attr.Type) Attr         { return Attr{Type: t, Computed: true} }
func optionalComputed(t attr.Type) Attr { return Attr{Type: t, Optional: true, Computed: true} }

func (a Attr) sensitive() Attr            { a.Sensitive = true; return a }
func (a Attr) writeOnly() Attr            { a.WriteOnly = true; return a }
func (a Attr) oneOf(v ...string) Attr     { a.OneOf = v; return a }
func (a Attr) deprecated(msg string) Attr { a.Deprecated = msg; return a }

// Providers returns every stub, by local name.
func Providers() map[string]Provider {
	out := map[string]Provider{}
	for _, p := range []Provider{azurerm(), postgresql(), azapi()} {
		out[p.TypeName] = p
	}
	return out
}
