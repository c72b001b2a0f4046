package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestValidateAIAuth covers what Terraform-level tests cannot see: warnings,
// and unknown values (a key from another resource, not yet known).
func TestValidateAIAuth(t *testing.T) {
	s := types.StringValue
	unknown := types.StringUnknown()
	cases := []struct {
		name           string
		block          string
		attrs          map[string]attr.Value
		errors, warns  int
		summary, words string
	}{
		{"key with managed identity warns", "azure_openai", map[string]attr.Value{"auth_type": s("managed-identity"), "subscription_key": s("k")},
			0, 1, "Key set with managed identity", "does not use azure_openai.subscription_key"},
		{"write-only key with managed identity warns", "azure_ml", map[string]attr.Value{"auth_type": s("managed-identity"), "endpoint_key_wo": s("k")},
			0, 1, "Key set with managed identity", "azure_ml.endpoint_key"},
		{"managed identity alone", "azure_cognitive", map[string]attr.Value{"auth_type": s("managed-identity")}, 0, 0, "", ""},
		{"subscription key with write-only key", "azure_openai", map[string]attr.Value{"auth_type": s("subscription-key"), "subscription_key_wo": s("k")}, 0, 0, "", ""},
		{"unknown key counts as set", "azure_cognitive", map[string]attr.Value{"auth_type": s("subscription-key"), "subscription_key": unknown}, 0, 0, "", ""},
		{"unknown auth_type is not judged", "azure_openai", map[string]attr.Value{"auth_type": unknown}, 0, 0, "", ""},
		{"no key", "azure_cognitive", map[string]attr.Value{"auth_type": s("subscription-key")}, 1, 0, "Subscription key missing", "no key is set"},
		{"ml ranking key only", "azure_ml", map[string]attr.Value{"auth_type": s("subscription-key"), "serverless_ranking_endpoint_key": s("k")}, 0, 0, "", ""},
		{"ml scoring endpoint without its key", "azure_ml", map[string]attr.Value{"auth_type": s("subscription-key"),
			"scoring_endpoint": s("https://x"), "serverless_ranking_endpoint_key": s("k")}, 1, 0, "Subscription key missing", "scoring_endpoint is set"},
		{"no auth_type, no judgement", "azure_openai", map[string]attr.Value{"subscription_key": s("k")}, 0, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := validateAIAuth(aiConfig{tc.block: tc.attrs})
			if d.ErrorsCount() != tc.errors || d.WarningsCount() != tc.warns {
				t.Fatalf("got %d errors, %d warnings: %v", d.ErrorsCount(), d.WarningsCount(), d)
			}
			if tc.summary == "" {
				return
			}
			var all diag.Diagnostics
			all.Append(d.Errors()...)
			all.Append(d.Warnings()...)
			if all[0].Summary() != tc.summary || !strings.Contains(all[0].Detail(), tc.words) {
				t.Fatalf("got %q: %q", all[0].Summary(), all[0].Detail())
			}
			if strings.Contains(all[0].Detail(), `"k"`) {
				t.Fatalf("the key's value is in the message: %q", all[0].Detail())
			}
		})
	}
}

// TestAIChanges: what an update sends, clears and leaves alone.
func TestAIChanges(t *testing.T) {
	s := types.StringValue
	n := types.Int64Value
	prior := aiConfig{"azure_openai": {"endpoint": s("https://a"), "subscription_key": s("old"), "auth_type": types.StringNull()},
		"azure_ml": {"endpoint_key_wo_version": n(1), "auth_type": s("subscription-key")}}
	plan := aiConfig{"azure_openai": {"endpoint": s("https://a"), "subscription_key_wo_version": n(1)},
		"azure_ml": {"endpoint_key_wo_version": n(1)}}
	config := aiConfig{"azure_openai": {"endpoint": s("https://a"), "subscription_key_wo": s("new"), "subscription_key_wo_version": n(1)},
		"azure_ml": {"endpoint_key_wo": s("ml"), "endpoint_key_wo_version": n(1)}}
	sendWO := func(f aiField) bool {
		return !plan.num(f.Block, f.WriteOnlyVersion).Equal(prior.num(f.Block, f.WriteOnlyVersion))
	}
	got := map[string]string{}
	for _, c := range changes(plan, config, prior, sendWO) {
		v := "<clear>"
		if c.Value != nil {
			v = *c.Value
		}
		got[c.Key] = v
	}
	want := map[string]string{
		"azure_openai.endpoint":         "https://a",
		"azure_openai.subscription_key": "new",     // switched to write-only: sent
		"azure_ml.auth_type":            "<clear>", // left the configuration
		// azure_ml.endpoint_key: same version, not sent, not cleared
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
