package entratoken

import "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

// SetTransportForTest makes every credential built afterwards use t (a
// client that trusts a fake authority's certificate); nil restores the default.
func SetTransportForTest(t policy.Transporter) { testTransport = t }
