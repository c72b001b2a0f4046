package stubproviders

import "github.com/hashicorp/terraform-plugin-framework/attr"

// azurerm: hashicorp/terraform-provider-azurerm (v4.x, served over protocol
// 5). Each schema names the file and commit it was transcribed from. SDKv2
// conventions, kept here: an "Optional with Default" argument is optional; a
// "TypeList of Resource" argument is a block (MaxItems as Max); a computed-only
// list of objects is an attribute; every resource has a timeouts block with
// the operations it declares; commonschema.Location and ResourceGroupName are
// required strings, Tags an optional map of strings, the *Computed variants
// computed.
func azurerm() Provider {
	return Provider{
		TypeName: "azurerm",
		Source:   "registry.terraform.io/hashicorp/azurerm",
		Protocol: 5,
		Config:   azurermProviderSchema(),
		Resources: map[string]Schema{
			"azurerm_postgresql_flexible_server":                                azurermFlexibleServer(),
			"azurerm_postgresql_flexible_server_active_directory_administrator": azurermFlexibleServerAdministrator(),
			"azurerm_postgresql_flexible_server_configuration":                  azurermFlexibleServerConfiguration(),
			"azurerm_postgresql_flexible_server_database":                       azurermFlexibleServerDatabase(),
			"azurerm_postgresql_flexible_server_firewall_rule":                  azurermFlexibleServerFirewallRule(),
			"azurerm_role_assignment":                                           azurermRoleAssignment(),
			"azurerm_user_assigned_identity":                                    azurermUserAssignedIdentity(),
			"azurerm_federated_identity_credential":                             azurermFederatedIdentityCredential(),
			"azurerm_resource_group":                                            azurermResourceGroup(),
		},
		DataSources: map[string]Schema{
			"azurerm_client_config":              azurermClientConfig(),
			"azurerm_postgresql_flexible_server": azurermFlexibleServerData(),
			"azurerm_cognitive_account":          azurermCognitiveAccountData(),
			"azurerm_machine_learning_workspace": azurermMachineLearningWorkspaceData(),
		},
	}
}

// timeouts is the block SDKv2 adds for the operations a resource declares.
func timeouts(ops ...string) Block {
	attrs := map[string]Attr{}
	for _, op := range ops {
		attrs[op] = optional(str)
	}
	return Block{Nesting: Single, Attrs: attrs}
}

var tags = optional(mapOf(str))

// internal/services/postgres/postgresql_flexible_server_resource.go at
// 00030056ee5b0453714300b2aa2ad3be6c2d31ba (API 2025-08-01, versions 11-18).
func azurermFlexibleServer() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                              required(str),
			"resource_group_name":               required(str),
			"location":                          required(str),
			"administrator_login":               optionalComputed(str),
			"administrator_password":            optional(str).sensitive(),
			"administrator_password_wo":         optional(str).writeOnly(),
			"administrator_password_wo_version": optional(intT),
			"sku_name":                          optionalComputed(str),
			"auto_grow_enabled":                 optional(boolT),
			"storage_mb":                        optionalComputed(intT),
			"storage_tier":                      optionalComputed(str).oneOf("P4", "P6", "P10", "P15", "P20", "P30", "P40", "P50", "P60", "P70", "P80"),
			"version":                           optionalComputed(str).oneOf("11", "12", "13", "14", "15", "16", "17", "18"),
			"zone":                              optional(str),
			"create_mode":                       optional(str).oneOf("Default", "PointInTimeRestore", "Replica", "ReviveDropped", "GeoRestore", "Update"),
			"delegated_subnet_id":               optional(str),
			"private_dns_zone_id":               optionalComputed(str),
			"point_in_time_restore_time_in_utc": optional(str),
			"source_server_id":                  optional(str),
			"backup_retention_days":             optionalComputed(intT),
			"geo_redundant_backup_enabled":      optional(boolT),
			"fqdn":                              computed(str),
			"public_network_access_enabled":     optional(boolT),
			"replication_role":                  optional(str).oneOf("None"),
			"tags":                              tags,
		},
		Blocks: map[string]Block{
			"authentication": {Max: 1, Attrs: map[string]Attr{
				"active_directory_auth_enabled": optional(boolT),
				"password_auth_enabled":         optional(boolT),
				"tenant_id":                     optional(str),
			}},
			"maintenance_window": {Max: 1, Attrs: map[string]Attr{
				"day_of_week":  optional(intT),
				"start_hour":   optional(intT),
				"start_minute": optional(intT),
			}},
			"high_availability": {Max: 1, Attrs: map[string]Attr{
				"mode":                      required(str).oneOf("ZoneRedundant", "SameZone"),
				"standby_availability_zone": optional(str),
			}},
			"identity": identityOptional(),
			"customer_managed_key": {Max: 1, Attrs: map[string]Attr{
				"key_vault_key_id":                     required(str),
				"primary_user_assigned_identity_id":    optional(str),
				"geo_backup_key_vault_key_id":          optional(str),
				"geo_backup_user_assigned_identity_id": optional(str),
			}},
			"timeouts": timeouts("create", "read", "update", "delete"),
		},
		Conflicting:      [][]string{{"administrator_password", "administrator_password_wo"}},
		RequiredTogether: [][]string{{"administrator_password_wo", "administrator_password_wo_version"}},
	}
}

// go-azure-helpers resourcemanager/commonschema/identity_system_user.go,
// SystemAssignedUserAssignedIdentityOptional.
func identityOptional() Block {
	return Block{Max: 1, Attrs: map[string]Attr{
		"type":         required(str).oneOf("UserAssigned", "SystemAssigned", "SystemAssigned, UserAssigned"),
		"identity_ids": optional(setOf(str)),
		"principal_id": computed(str),
		"tenant_id":    computed(str),
	}}
}

// SystemAssignedUserAssignedIdentityComputed: a computed list of objects.
var identityComputed = computed(listOf(objectOf(map[string]attr.Type{
	"type": str, "identity_ids": listOf(str), "principal_id": str, "tenant_id": str,
})))

// postgresql_flexible_server_active_directory_administrator_resource.go at
// 084c24059ee36b664a7105fe9dc242a91d8cf283.
func azurermFlexibleServerAdministrator() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"server_name":         required(str),
			"resource_group_name": required(str),
			"object_id":           required(str),
			"principal_name":      required(str),
			"principal_type":      required(str).oneOf("Group", "ServicePrincipal", "User"),
			"tenant_id":           required(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "delete")},
	}
}

// postgresql_flexible_server_configuration_resource.go at
// 084c24059ee36b664a7105fe9dc242a91d8cf283.
func azurermFlexibleServerConfiguration() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":      required(str),
			"server_id": required(str),
			"value":     required(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "update", "delete")},
	}
}

// postgresql_flexible_server_database_resource.go at
// 077561f86722c3ec1ce8661aaf4fe5b7b3049df3.
func azurermFlexibleServerDatabase() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":      required(str),
			"server_id": required(str),
			"charset":   optional(str),
			"collation": optional(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "delete")},
	}
}

// postgresql_flexible_server_firewall_rule_resource.go at
// 084c24059ee36b664a7105fe9dc242a91d8cf283.
func azurermFlexibleServerFirewallRule() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":             required(str),
			"server_id":        required(str),
			"start_ip_address": required(str),
			"end_ip_address":   required(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "update", "delete")},
	}
}

// internal/services/authorization/role_assignment_resource.go at
// 03ee9d8b46f077428306c4303f3c119cdd6e0fbc.
func azurermRoleAssignment() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                                   optionalComputed(str),
			"scope":                                  required(str),
			"role_definition_id":                     optionalComputed(str),
			"role_definition_name":                   optionalComputed(str),
			"principal_id":                           required(str),
			"principal_type":                         optionalComputed(str).oneOf("User", "Group", "ServicePrincipal"),
			"skip_service_principal_aad_check":       optionalComputed(boolT),
			"delegated_managed_identity_resource_id": optional(str),
			"description":                            optional(str),
			"condition":                              optional(str),
			"condition_version":                      optionalComputed(str).oneOf("1.0", "2.0"),
		},
		Blocks:       map[string]Block{"timeouts": timeouts("create", "read", "update", "delete")},
		ExactlyOneOf: [][]string{{"role_definition_id", "role_definition_name"}},
	}
}

// internal/services/managedidentity/user_assigned_identity_resource.go at
// 07080b78a03bff743ddbc6f6e61ba18b59644f7d (a typed resource: the SDK
// wrapper adds the timeouts block).
func azurermUserAssignedIdentity() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                required(str),
			"location":            required(str),
			"resource_group_name": required(str),
			"isolation_scope":     optional(str).oneOf("Regional"),
			"tags":                tags,
			"client_id":           computed(str),
			"principal_id":        computed(str),
			"tenant_id":           computed(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "update", "delete")},
	}
}

// internal/services/managedidentity/federated_identity_credential_resource.go
// at 9a87d1cc46ca3648e35effa68c79dd786df05d0a (a typed resource; audience is a
// list of strings with MaxItems 1, no validation on it here).
func azurermFederatedIdentityCredential() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                required(str),
			"resource_group_name": required(str),
			"parent_id":           required(str),
			"audience":            required(listOf(str)),
			"issuer":              required(str),
			"subject":             required(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "update", "delete")},
	}
}

// internal/services/resource/resource_group_resource.go at
// 0066c24f5f2f63a1554b00cc9a5ed564589a7ad4.
func azurermResourceGroup() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":       required(str),
			"location":   required(str),
			"tags":       tags,
			"managed_by": optional(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("create", "read", "update", "delete")},
	}
}

// internal/services/authorization/client_config_data_source.go at
// 075b14683fa28046cb7455c87c173c58bb5b8fa0.
func azurermClientConfig() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"client_id":       computed(str),
			"tenant_id":       computed(str),
			"subscription_id": computed(str),
			"object_id":       computed(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("read")},
	}
}

// internal/services/postgres/postgresql_flexible_server_data_source.go at
// 003ae81d2afb0c81df854144a8144a9d850a7d53.
func azurermFlexibleServerData() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                          required(str),
			"resource_group_name":           required(str),
			"location":                      computed(str),
			"administrator_login":           computed(str),
			"auto_grow_enabled":             computed(boolT),
			"sku_name":                      computed(str),
			"storage_mb":                    computed(intT),
			"version":                       computed(str),
			"delegated_subnet_id":           computed(str),
			"backup_retention_days":         computed(intT),
			"fqdn":                          computed(str),
			"public_network_access_enabled": computed(boolT),
			"tags":                          computed(mapOf(str)),
			"high_availability":             computed(listOf(objectOf(map[string]attr.Type{"mode": str, "standby_availability_zone": str}))),
			"zone":                          computed(str),
		},
		Blocks: map[string]Block{"timeouts": timeouts("read")},
	}
}

// internal/services/cognitive/cognitive_account_data_source.go at
// 01612fdca187ef73c4357ff8220ae0009d39f0b8 (its tags are commonschema.Tags,
// optional).
func azurermCognitiveAccountData() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                required(str),
			"resource_group_name": required(str),
			"location":            computed(str),
			"custom_question_answering_search_service_id": computed(str),
			"custom_subdomain_name":                       computed(str),
			"customer_managed_key":                        computed(listOf(objectOf(map[string]attr.Type{"key_vault_key_id": str, "identity_client_id": str}))),
			"dynamic_throttling_enabled":                  computed(boolT),
			"endpoint":                                    computed(str),
			"fqdns":                                       computed(listOf(str)),
			"identity":                                    identityComputed,
			"kind":                                        computed(str),
			"local_auth_enabled":                          computed(boolT),
			"metrics_advisor_aad_client_id":               computed(str),
			"metrics_advisor_aad_tenant_id":               computed(str),
			"metrics_advisor_super_user_name":             computed(str),
			"metrics_advisor_website_name":                computed(str),
			"network_acls": computed(listOf(objectOf(map[string]attr.Type{
				"default_action": str,
				"ip_rules":       listOf(str),
				"virtual_network_rules": listOf(objectOf(map[string]attr.Type{
					"subnet_id": str, "ignore_missing_vnet_service_endpoint": boolT,
				})),
				"bypass": str,
			}))),
			"network_injection":                  computed(listOf(objectOf(map[string]attr.Type{"scenario": str, "subnet_id": str}))),
			"outbound_network_access_restricted": computed(boolT),
			"primary_access_key":                 computed(str).sensitive(),
			"project_management_enabled":         computed(boolT),
			"public_network_access_enabled":      computed(boolT),
			"qna_runtime_endpoint":               computed(str),
			"secondary_access_key":               computed(str).sensitive(),
			"sku_name":                           computed(str),
			"storage":                            computed(listOf(objectOf(map[string]attr.Type{"storage_account_id": str, "identity_client_id": str}))),
			"tags":                               tags,
		},
		Blocks: map[string]Block{"timeouts": timeouts("read")},
	}
}

// internal/services/machinelearning/machine_learning_workspace_data_source.go
// at 084c24059ee36b664a7105fe9dc242a91d8cf283.
func azurermMachineLearningWorkspaceData() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":                        required(str),
			"resource_group_name":         required(str),
			"location":                    computed(str),
			"identity":                    identityComputed,
			"storage_account_access_type": computed(str),
			"tags":                        computed(mapOf(str)),
		},
		Blocks: map[string]Block{"timeouts": timeouts("read")},
	}
}

// internal/provider/framework/provider.go at
// 038fe2237f320245a967fe2b3b1823fdc25109b3 (the SDKv2 half of the muxed
// provider declares the same schema). features is required, exactly once.
func azurermProviderSchema() Schema {
	s := map[string]Attr{}
	for _, name := range []string{
		"subscription_id", "client_id", "client_id_file_path", "tenant_id", "environment", "metadata_host",
		"client_certificate", "client_certificate_path", "client_certificate_password", "client_secret",
		"client_secret_file_path", "ado_pipeline_service_connection_id", "oidc_request_token", "oidc_request_url",
		"oidc_token", "oidc_token_file_path", "msi_endpoint", "msi_api_version", "msi_custom_header_name", "partner_id",
	} {
		s[name] = optional(str)
	}
	for _, name := range []string{
		"use_oidc", "use_msi", "use_cli", "use_aks_workload_identity", "disable_correlation_request_id",
		"disable_terraform_partner_id", "storage_use_azuread",
	} {
		s[name] = optional(boolT)
	}
	s["msi_custom_header_value"] = optional(str).sensitive()
	s["auxiliary_tenant_ids"] = optional(listOf(str))
	s["resource_provider_registrations"] = optional(str).oneOf("none", "legacy", "core", "extended", "all")
	s["resource_providers_to_register"] = optional(listOf(str))

	flags := func(names ...string) Block {
		b := Block{Attrs: map[string]Attr{}}
		for _, n := range names {
			b.Attrs[n] = optional(boolT)
		}
		return b
	}
	enhanced := flags("locations", "resource_providers", "preflight_enabled")
	enhanced.Max = 1
	enhanced.Attrs["preflight_location_fallback"] = optional(str)
	template := Block{Attrs: map[string]Attr{"delete_nested_items_during_deletion": required(boolT)}}

	features := flags("persist_id_on_create_before_polling_for_completion", "skip_import_check_on_create_and_allow_overwriting_existing_resources")
	features.Min, features.Max = 1, 1
	features.Blocks = map[string]Block{
		"api_management":       flags("purge_soft_delete_on_destroy", "recover_soft_deleted"),
		"app_configuration":    flags("purge_soft_delete_on_destroy", "recover_soft_deleted"),
		"application_insights": flags("disable_generated_rule"),
		"cognitive_account":    flags("purge_soft_delete_on_destroy"),
		"databricks_workspace": flags("force_delete"),
		"servicebus":           flags("auto_delete_subscription_default_rule"),
		"enhanced_validation":  enhanced,
		"key_vault": flags("purge_soft_delete_on_destroy", "purge_soft_deleted_certificates_on_destroy",
			"purge_soft_deleted_keys_on_destroy", "purge_soft_deleted_secrets_on_destroy",
			"purge_soft_deleted_hardware_security_modules_on_destroy", "purge_soft_deleted_hardware_security_module_keys_on_destroy",
			"recover_soft_deleted_certificates", "recover_soft_deleted_key_vaults", "recover_soft_deleted_keys",
			"recover_soft_deleted_secrets", "recover_soft_deleted_hardware_security_module_keys"),
		"log_analytics_workspace":    flags("permanently_delete_on_destroy"),
		"machine_learning":           flags("purge_soft_deleted_workspace_on_destroy"),
		"managed_disk":               flags("expand_without_downtime"),
		"netapp":                     flags("delete_backups_on_backup_vault_destroy", "prevent_volume_destruction"),
		"postgresql_flexible_server": flags("restart_server_on_configuration_value_change"),
		"recovery_service": flags("vm_backup_stop_protection_and_retain_data_on_destroy",
			"vm_backup_suspend_protection_and_retain_data_on_destroy", "purge_protected_items_from_vault_on_destroy"),
		"recovery_services_vaults": flags("recover_soft_deleted_backup_protected_vm"),
		"resource_group":           flags("prevent_deletion_if_contains_resources"),
		"storage":                  flags("data_plane_available"),
		"subscription":             flags("prevent_cancellation_on_destroy"),
		"template_deployment":      template,
		"virtual_machine":          flags("delete_os_disk_on_deletion", "skip_shutdown_and_force_delete", "detach_implicit_data_disk_on_deletion"),
		"virtual_machine_scale_set": flags("force_delete", "reimage_on_manual_upgrade", "roll_instances_when_required",
			"scale_to_zero_before_deletion"),
	}
	return Schema{Attrs: s, Blocks: map[string]Block{"features": features}}
}
