package stubproviders

// postgresql: cyrilgdn/terraform-provider-postgresql (SDKv2, protocol 5).
func postgresql() Provider {
	return Provider{
		TypeName: "postgresql",
		Source:   "registry.terraform.io/cyrilgdn/postgresql",
		Protocol: 5,
		Config:   postgresqlProviderSchema(),
		Resources: map[string]Schema{
			"postgresql_default_privileges": postgresqlDefaultPrivileges(),
			"postgresql_grant":              postgresqlGrant(),
			"postgresql_grant_role":         postgresqlGrantRole(),
			"postgresql_role":               postgresqlRole(),
			"postgresql_schema":             postgresqlSchema(),
			"postgresql_security_label":     postgresqlSecurityLabel(),
		},
	}
}

// postgresql/provider.go, the revision with postgresql_security_label,
// max_conn_retries and conn_max_lifetime_seconds (v1.26).
func postgresqlProviderSchema() Schema {
	s := map[string]Attr{
		"scheme":   optional(str).oneOf("postgres", "awspostgres", "gcppostgres"),
		"port":     optional(intT),
		"password": optional(str).sensitive(),
	}
	for _, n := range []string{
		"host", "database", "username", "aws_rds_iam_profile", "aws_rds_iam_region", "aws_rds_iam_provider_role_arn",
		"azure_tenant_id", "gcp_iam_impersonate_service_account", "database_username", "sslmode",
		"sslrootcert", "expected_version",
	} {
		s[n] = optional(str)
	}
	s["ssl_mode"] = optional(str).deprecated("Rename PostgreSQL provider `ssl_mode` attribute to `sslmode`")
	for _, n := range []string{"aws_rds_iam_auth", "azure_identity_auth", "superuser"} {
		s[n] = optional(boolT)
	}
	for _, n := range []string{"connect_timeout", "max_conn_retries", "connection_retry_timeout_seconds", "max_connections", "conn_max_lifetime_seconds"} {
		s[n] = optional(intT)
	}
	return Schema{Attrs: s, Blocks: map[string]Block{
		"clientcert": {Max: 1, Attrs: map[string]Attr{
			"cert":      required(str),
			"key":       required(str),
			"sslinline": optional(boolT),
		}},
	}}
}

// postgresql/resource_postgresql_grant.go, the revision with object types
// routine, foreign_data_wrapper, foreign_server and column (v1.26).
func postgresqlGrant() Schema {
	return Schema{Attrs: map[string]Attr{
		"role":     required(str),
		"database": required(str),
		"schema":   optional(str),
		"object_type": required(str).oneOf("database", "function", "procedure", "routine", "schema", "sequence",
			"table", "foreign_data_wrapper", "foreign_server", "column"),
		"objects":           optional(setOf(str)),
		"columns":           optional(setOf(str)),
		"privileges":        required(setOf(str)),
		"with_grant_option": optional(boolT),
	}}
}

// postgresql/resource_postgresql_grant_role.go at
// 04a8fc67c215271f5a8ff65a936c2e804c556096. Beware the names: role is the
// member that receives grant_role. Every argument forces replacement; there
// is no importer.
func postgresqlGrantRole() Schema {
	return Schema{Attrs: map[string]Attr{
		"role":              required(str),
		"grant_role":        required(str),
		"with_admin_option": optional(boolT),
	}}
}

// postgresql/resource_postgresql_default_privileges.go at
// 02129afe73a67b7bc5a192b24cde0c7ec9208706.
func postgresqlDefaultPrivileges() Schema {
	return Schema{Attrs: map[string]Attr{
		"role":              required(str),
		"database":          required(str),
		"owner":             required(str),
		"schema":            optional(str),
		"object_type":       required(str).oneOf("table", "sequence", "function", "routine", "type", "schema"),
		"privileges":        required(setOf(str)),
		"with_grant_option": optional(boolT),
	}}
}

// postgresql/resource_postgresql_role.go at
// 01defb57b732efbba7f26b1d959aac572d79b94d, plus what the v1.26 docs
// (docs/resources/role.md) add: password_wo, password_wo_version and
// search_path_db.
func postgresqlRole() Schema {
	s := map[string]Attr{
		"name":                                required(str),
		"password":                            optional(str).sensitive(),
		"password_wo":                         optional(str).sensitive().writeOnly(),
		"password_wo_version":                 optional(str),
		"encrypted":                           optional(str).deprecated(`Rename PostgreSQL role resource attribute "encrypted" to "encrypted_password"`),
		"roles":                               optional(setOf(str)),
		"search_path":                         optional(listOf(str)),
		"search_path_db":                      optional(mapOf(str)),
		"valid_until":                         optional(str),
		"connection_limit":                    optional(intT),
		"idle_in_transaction_session_timeout": optional(intT),
		"statement_timeout":                   optional(intT),
		"assume_role":                         optional(str),
	}
	for _, n := range []string{
		"encrypted_password", "superuser", "create_database", "create_role", "inherit", "login", "replication",
		"bypass_row_level_security", "skip_drop_role", "skip_reassign_owned",
	} {
		s[n] = optional(boolT)
	}
	return Schema{
		Attrs:            s,
		Conflicting:      [][]string{{"password", "password_wo"}, {"password", "password_wo_version"}},
		RequiredTogether: [][]string{{"password_wo", "password_wo_version"}},
	}
}

// postgresql/resource_postgresql_security_label.go at
// 1deb31b1edf8e348c5fbc2a0ecffb6fcd80aadea.
func postgresqlSecurityLabel() Schema {
	return Schema{Attrs: map[string]Attr{
		"object_name":    required(str),
		"object_type":    required(str),
		"label_provider": required(str),
		"label":          required(str),
	}}
}

// postgresql/resource_postgresql_schema.go at
// 34bc7327bcc5481beb990954da71ff23319bf961. policy is an Optional +
// Computed set of SDKv2 resources, which Terraform sees as a set block; the
// real provider deprecates it ("Use postgresql_grant resource instead (with
// object_type=\"schema\")"), which a block here cannot say. The id is
// <database>.<schema>.
func postgresqlSchema() Schema {
	return Schema{
		Attrs: map[string]Attr{
			"name":          required(str),
			"database":      optionalComputed(str),
			"owner":         optionalComputed(str),
			"if_not_exists": optional(boolT),
			"drop_cascade":  optional(boolT),
		},
		Blocks: map[string]Block{
			"policy": {Nesting: Set, Attrs: map[string]Attr{
				"create":            optional(boolT),
				"create_with_grant": optional(boolT),
				"role":              optional(str),
				"usage":             optional(boolT),
				"usage_with_grant":  optional(boolT),
			}},
		},
	}
}
