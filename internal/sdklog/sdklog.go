// Package sdklog turns off the plugin SDK's logging in the provider process
// when nobody asked for logs.
//
// terraform-plugin-go and terraform-plugin-framework log every protocol and
// framework event at TRACE, as JSON on the plugin's stderr, unless
// TF_LOG_SDK, TF_LOG_SDK_PROTO or TF_LOG_SDK_FRAMEWORK say otherwise: their
// level does not follow TF_LOG. Terraform parses each line and throws it away
// when TF_LOG (or TF_LOG_PROVIDER) is unset, so the provider spends a third of
// its CPU on lines that nobody reads (docs/design/performance.md).
package sdklog

import (
	"os"
	"strings"
)

// Levels are the variables that set the SDK's log levels: the root SDK
// logger and its protocol subsystem (terraform-plugin-go), and the framework
// subsystem (terraform-plugin-framework). Each subsystem checks its own
// level before it formats a line, so all three are needed.
var Levels = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}

// Asked reports whether the environment asks for any log: a non-empty
// variable whose name starts with TF_LOG (TF_LOG, TF_LOG_CORE, TF_LOG_PATH,
// TF_LOG_PROVIDER, TF_LOG_PROVIDER_<NAME>, TF_LOG_SDK*, TF_LOG_PATH_MASK) or
// TF_ACC_LOG (TF_ACC_LOG, TF_ACC_LOG_PATH). Terraform passes its environment
// to the provider processes it starts, so the provider sees what the user set.
func Asked(environ []string) bool {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if v != "" && (strings.HasPrefix(k, "TF_LOG") || strings.HasPrefix(k, "TF_ACC_LOG")) {
			return true
		}
	}
	return false
}

// QuietUnlessAsked sets each of Levels to "off" when the process's
// environment asks for no log, and returns the variables it set (none when
// a log was asked for). Call it before serving the provider.
func QuietUnlessAsked() []string {
	if Asked(os.Environ()) {
		return nil
	}
	var set []string
	for _, k := range Levels {
		if os.Setenv(k, "off") == nil {
			set = append(set, k)
		}
	}
	return set
}
