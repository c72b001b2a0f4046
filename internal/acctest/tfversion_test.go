package acctest

import (
	"strings"
	"testing"
)

// What the CLIs print, as they print it: OpenTofu writes its CLI
// configuration warnings to stdout, before the JSON and the version line.
const (
	tofuWarning = "\nWarning: Unable to open CLI configuration file\n\nThe CLI configuration file at \"/root/.terraformrc\" does not exist.\n"
	tofuJSON    = "{\n  \"terraform_version\": \"1.12.6\",\n  \"platform\": \"linux_amd64\",\n  \"provider_selections\": {}\n}\n"
	tofuText    = "OpenTofu v1.12.6\non linux_amd64\n"
	tfJSON      = "{\n  \"terraform_version\": \"1.11.4\",\n  \"platform\": \"linux_amd64\",\n  \"provider_selections\": {},\n  \"terraform_outdated\": true\n}\n"
	tfText      = "Terraform v1.11.4\non linux_amd64\n\nYour version of Terraform is out of date!\n"
)

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		name, json, text      string
		wantProduct, wantVers string
	}{
		{"terraform", tfJSON, tfText, ProductTerraform, "1.11.4"},
		{"opentofu", tofuJSON, tofuText, ProductOpenTofu, "1.12.6"},
		{"opentofu with warnings on stdout", tofuWarning + tofuJSON, tofuWarning + tofuText, ProductOpenTofu, "1.12.6"},
		{"text only", "", tofuWarning + tofuText, ProductOpenTofu, "1.12.6"},
		{"json only", tfJSON, "", ProductTerraform, "1.11.4"},
		{"not runnable", "", "", "", ""},
		{"another program", "usage: foo\n", "foo 1.0\n", "", ""},
	} {
		product, v := parseVersion([]byte(c.json), []byte(c.text))
		if product != c.wantProduct || v != c.wantVers {
			t.Errorf("%s: got %q %q, want %q %q", c.name, product, v, c.wantProduct, c.wantVers)
		}
	}
}

func TestFeatures(t *testing.T) {
	tf111 := CLIInfo{Path: "terraform", Product: ProductTerraform, Version: "1.11.4"}
	tf114 := CLIInfo{Path: "terraform", Product: ProductTerraform, Version: "1.14.9"}
	tofu110 := CLIInfo{Path: "tofu", Product: ProductOpenTofu, Version: "1.10.7"}
	tofu112 := CLIInfo{Path: "tofu", Product: ProductOpenTofu, Version: "1.12.6"}
	tofu120 := CLIInfo{Path: "tofu", Product: ProductOpenTofu, Version: "1.20.0"}
	none := CLIInfo{Path: "missing"}
	for _, c := range []struct {
		cli  CLIInfo
		f    Feature
		want bool
	}{
		{tf111, FeatureWriteOnly, true}, {tf111, FeatureEphemeral, true}, {tf111, FeatureIdentity, false},
		{tf111, FeatureListResources, false}, {tf111, FeatureProviderForEach, false},
		{tf114, FeatureIdentity, true}, {tf114, FeatureListResources, true}, {tf114, FeatureActions, true},
		{tf114, FeatureProviderForEach, false},
		{tofu110, FeatureEphemeral, false}, {tofu110, FeatureWriteOnly, false}, {tofu110, FeatureProviderForEach, true},
		{tofu112, FeatureEphemeral, true}, {tofu112, FeatureWriteOnly, true}, {tofu112, FeatureIdentity, true},
		{tofu112, FeatureProviderForEach, true}, {tofu112, FeatureListResources, false}, {tofu112, FeatureActions, false},
		// A later OpenTofu's number says nothing of Terraform's features.
		{tofu120, FeatureListResources, false}, {tofu120, FeatureActions, false},
		{none, FeatureWriteOnly, false},
	} {
		got, why := c.cli.Has(c.f)
		if got != c.want {
			t.Errorf("%s has %s: %t, want %t (%s)", c.cli, c.f.Name, got, c.want, why)
		}
		if !got && (why == "" || strings.Contains(why, "\n")) {
			t.Errorf("%s lacks %s: the reason must be one line, got %q", c.cli, c.f.Name, why)
		}
	}
}
