package stubproviders

// azapi: Azure/terraform-provider-azapi (terraform-plugin-framework,
// protocol 6), internal/services/*.go at
// 0499042f128848267ffe3211e18eb2974e8aee01. Not transcribed: the "retry"
// nested attribute of both resources and the provider block's arguments
// (the docs set neither; a provider "azapi" block with arguments fails here).
func azapi() Provider {
	return Provider{
		TypeName: "azapi",
		Source:   "registry.terraform.io/azure/azapi",
		Protocol: 6,
		Resources: map[string]Schema{
			"azapi_update_resource": azapiUpdateResource(),
			"azapi_resource_action": azapiResourceAction(),
		},
	}
}

var azapiTimeouts = timeouts("create", "update", "read", "delete")

// azapi_update_resource.go; its ValidateConfig asks for exactly one of name
// and resource_id, and name together with parent_id.
func azapiUpdateResource() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"id":                      computed(str),
			"name":                    optionalComputed(str),
			"parent_id":               optionalComputed(str),
			"resource_id":             optionalComputed(str),
			"type":                    required(str),
			"body":                    {Optional: true},
			"ignore_casing":           optionalComputed(boolT),
			"ignore_missing_property": optionalComputed(boolT),
			"response_export_values":  {Optional: true},
			"locks":                   optional(listOf(str)),
			"output":                  {Computed: true},
			"update_headers":          optional(mapOf(str)),
			"update_query_parameters": optional(mapOf(listOf(str))),
			"read_headers":            optional(mapOf(str)),
			"read_query_parameters":   optional(mapOf(listOf(str))),
		},
		Blocks:           map[string]Block{"timeouts": azapiTimeouts},
		ExactlyOneOf:     [][]string{{"name", "resource_id"}},
		RequiredTogether: [][]string{{"name", "parent_id"}},
	}
}

// azapi_resource_action_resource.go.
func azapiResourceAction() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"id":                               computed(str),
			"type":                             required(str),
			"resource_id":                      required(str),
			"action":                           optional(str),
			"method":                           optionalComputed(str).oneOf("POST", "PATCH", "PUT", "DELETE", "GET", "HEAD"),
			"body":                             {Optional: true},
			"when":                             optionalComputed(str).oneOf("apply", "destroy"),
			"locks":                            optional(listOf(str)),
			"response_export_values":           {Optional: true},
			"sensitive_response_export_values": {Optional: true},
			"output":                           {Computed: true},
			"sensitive_output":                 {Computed: true, Sensitive: true},
			"headers":                          optional(mapOf(str)),
			"query_parameters":                 optional(mapOf(listOf(str))),
		},
		Blocks: map[string]Block{"timeouts": azapiTimeouts},
	}
}
