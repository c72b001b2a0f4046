package sdklog

import (
	"os"
	"testing"
)

func TestAsked(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{"PATH=/bin", "HOME=/root", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE=/x", "TF_REATTACH_PROVIDERS="}, false},
		{[]string{"TF_LOG="}, false}, // empty is unset, for Terraform as well
		{[]string{"TF_LOG=trace"}, true},
		{[]string{"TF_LOG=off"}, true}, // what the user set is theirs to keep
		{[]string{"TF_LOG_CORE=debug"}, true},
		{[]string{"TF_LOG_PATH=/tmp/tf.log"}, true},
		{[]string{"TF_LOG_PROVIDER=trace"}, true},
		{[]string{"TF_LOG_PROVIDER_AZUREPG=debug"}, true},
		{[]string{"TF_LOG_SDK=trace"}, true},
		{[]string{"TF_LOG_SDK_PROTO=info"}, true},
		{[]string{"TF_LOG_SDK_FRAMEWORK=warn"}, true},
		{[]string{"TF_LOG_PATH_MASK=/tmp/%s.log"}, true},
		{[]string{"TF_ACC_LOG=TRACE"}, true},
		{[]string{"TF_ACC_LOG_PATH=/tmp/acc.log"}, true},
		{[]string{"XTF_LOG=trace", "MY_TF_LOG=1"}, false},
	} {
		if got := Asked(tc.env); got != tc.want {
			t.Errorf("Asked(%q) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// clearLogEnv unsets every TF_LOG* and TF_ACC_LOG* variable for the test.
func clearLogEnv(t *testing.T) {
	for _, k := range append([]string{"TF_LOG", "TF_LOG_CORE", "TF_LOG_PATH", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_AZUREPG",
		"TF_LOG_PATH_MASK", "TF_ACC_LOG", "TF_ACC_LOG_PATH"}, Levels...) {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func TestQuietUnlessAsked(t *testing.T) {
	clearLogEnv(t)
	set := QuietUnlessAsked()
	if len(set) != len(Levels) {
		t.Fatalf("set %v, want %v", set, Levels)
	}
	for _, k := range Levels {
		if v := os.Getenv(k); v != "off" {
			t.Errorf("%s = %q, want off", k, v)
		}
	}
}

func TestQuietUnlessAskedLeavesAskedLevels(t *testing.T) {
	clearLogEnv(t)
	t.Setenv("TF_LOG", "trace")
	if set := QuietUnlessAsked(); len(set) != 0 {
		t.Fatalf("with TF_LOG=trace it set %v", set)
	}
	for _, k := range Levels {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			t.Errorf("%s = %q, want it untouched (unset)", k, v)
		}
	}
}
