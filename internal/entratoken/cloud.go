// Package entratoken turns the provider's auth settings into PostgreSQL
// passwords: Entra access tokens from an azidentity credential (cached until
// shortly before they expire), a static token, or a plain password.
package entratoken

import (
	"fmt"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud is one of the Azure clouds, with the resource of its PostgreSQL Entra login.
type Cloud struct {
	Name          string
	Resource      string
	Configuration cloud.Configuration
}

// Scope is the OAuth2 scope azidentity asks for.
func (c Cloud) Scope() string { return c.Resource + "/.default" }

var clouds = map[string]Cloud{
	"public":       {"public", "https://ossrdbms-aad.database.windows.net", cloud.AzurePublic},
	"china":        {"china", "https://ossrdbms-aad.database.chinacloudapi.cn", cloud.AzureChina},
	"usgovernment": {"usgovernment", "https://ossrdbms-aad.database.usgovcloudapi.net", cloud.AzureGovernment},
}

// Aliases accepted for ARM_ENVIRONMENT, as azurerm accepts them.
var cloudAliases = map[string]string{
	"":                  "public",
	"azurecloud":        "public",
	"azurechinacloud":   "china",
	"azureusgovernment": "usgovernment",
	"usgov":             "usgovernment",
}

// CloudNames lists the accepted cloud names.
func CloudNames() []string {
	names := make([]string, 0, len(clouds))
	for n := range clouds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupCloud returns the cloud with the given name (or ARM_ENVIRONMENT alias).
func LookupCloud(name string) (Cloud, error) {
	if alias, ok := cloudAliases[lower(name)]; ok {
		name = alias
	}
	c, ok := clouds[lower(name)]
	if !ok {
		return Cloud{}, fmt.Errorf("unknown cloud %q: use one of %s", name, strings.Join(CloudNames(), ", "))
	}
	return c, nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
