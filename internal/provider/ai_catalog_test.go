package provider

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// TestAICatalog: pgaad's catalog of azure_ai keys, with the provider's
// words for each (aiWords), is what the resource schema, the data source
// schema, pgaad's secrecy and import use: every key has its words and
// attributes, secrets are sensitive with a write-only variant and only
// reported as set by the data source, and no attribute exists that the
// catalog does not list.
func TestAICatalog(t *testing.T) {
	ctx := context.Background()
	var rresp resource.SchemaResponse
	NewAISettingsResource().Schema(ctx, resource.SchemaRequest{}, &rresp)
	var dresp datasource.SchemaResponse
	NewAISettingsDataSource().Schema(ctx, datasource.SchemaRequest{}, &dresp)

	if len(aiWords) != len(pgaad.AISettings) {
		t.Errorf("aiWords has %d keys, pgaad's catalog %d", len(aiWords), len(pgaad.AISettings))
	}
	wantR, wantD := map[string][]string{}, map[string][]string{}
	for _, k := range pgaad.AISettings {
		w, ok := aiWords[k.Key]
		if !ok {
			t.Errorf("%s: no words in aiWords", k.Key)
		}
		if (w.endpoint != "") != k.Secret || (w.doc == "") != w.authType {
			t.Errorf("%s: words %+v do not fit secret = %v", k.Key, w, k.Secret)
		}
		f := newAIField(k)
		if f.Key != f.Block+"."+f.Attribute {
			t.Errorf("%s: block %q, attribute %q", f.Key, f.Block, f.Attribute)
		}
		if pgaad.IsSecretAIKey(f.Key) != f.Secret {
			t.Errorf("%s: IsSecretAIKey = %v, catalog says %v", f.Key, !f.Secret, f.Secret)
		}
		block, ok := rresp.Schema.Blocks[f.Block].(rschema.SingleNestedBlock)
		if !ok {
			t.Fatalf("resource: no block %q", f.Block)
		}
		a, ok := block.Attributes[f.Attribute].(rschema.StringAttribute)
		if !ok {
			t.Fatalf("resource: no string attribute %s.%s", f.Block, f.Attribute)
		}
		if a.Sensitive != f.Secret {
			t.Errorf("resource: %s.%s sensitive = %v, catalog secret = %v", f.Block, f.Attribute, a.Sensitive, f.Secret)
		}
		wantR[f.Block] = append(wantR[f.Block], f.Attribute)
		nested := dresp.Schema.Attributes[f.Block].(dschema.SingleNestedAttribute).Attributes
		if f.Secret {
			wo, ok := block.Attributes[f.WriteOnly].(rschema.StringAttribute)
			if !ok || !wo.WriteOnly || !wo.Sensitive {
				t.Errorf("resource: %s.%s is not a sensitive write-only string", f.Block, f.WriteOnly)
			}
			if _, ok := block.Attributes[f.WriteOnlyVersion].(rschema.Int64Attribute); !ok {
				t.Errorf("resource: no number %s.%s", f.Block, f.WriteOnlyVersion)
			}
			if _, ok := block.Attributes[f.Endpoint]; !ok {
				t.Errorf("resource: %s authenticates to %s.%s, which does not exist", f.Key, f.Block, f.Endpoint)
			}
			wantR[f.Block] = append(wantR[f.Block], f.WriteOnly, f.WriteOnlyVersion)
			if _, ok := nested[f.Attribute+setSuffix].(dschema.BoolAttribute); !ok {
				t.Errorf("data source: no bool %s.%s", f.Block, f.Attribute+setSuffix)
			}
			if _, ok := nested[f.Attribute]; ok {
				t.Errorf("data source: the secret %s.%s is readable", f.Block, f.Attribute)
			}
			wantD[f.Block] = append(wantD[f.Block], f.Attribute+setSuffix)
		} else {
			if _, ok := nested[f.Attribute].(dschema.StringAttribute); !ok {
				t.Errorf("data source: no string %s.%s", f.Block, f.Attribute)
			}
			wantD[f.Block] = append(wantD[f.Block], f.Attribute)
		}
	}
	names := func(m map[string]struct{}) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	for _, svc := range aiServiceTitles {
		got := map[string]struct{}{}
		for k := range rresp.Schema.Blocks[svc.block].(rschema.SingleNestedBlock).Attributes {
			got[k] = struct{}{}
		}
		sort.Strings(wantR[svc.block])
		if g := names(got); !slices.Equal(g, wantR[svc.block]) {
			t.Errorf("resource block %s has %v, catalog gives %v", svc.block, g, wantR[svc.block])
		}
		got = map[string]struct{}{}
		for k := range dresp.Schema.Attributes[svc.block].(dschema.SingleNestedAttribute).Attributes {
			got[k] = struct{}{}
		}
		sort.Strings(wantD[svc.block])
		if g := names(got); !slices.Equal(g, wantD[svc.block]) {
			t.Errorf("data source %s has %v, catalog gives %v", svc.block, g, wantD[svc.block])
		}
	}
	if len(rresp.Schema.Blocks) != len(aiServiceTitles) {
		t.Errorf("resource has %d blocks, catalog %d services", len(rresp.Schema.Blocks), len(aiServiceTitles))
	}
	// Import reads every catalog key.
	if !slices.Equal(pgaad.AISettingKeys, func() []string {
		var k []string
		for _, f := range pgaad.AISettings {
			k = append(k, f.Key)
		}
		return k
	}()) {
		t.Error("AISettingKeys is not the catalog's keys")
	}
}
