package emulator

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Azure's ownership model, as the emulator keeps it:
//
//   - the postgres database belongs to azure_pg_admin (bootstrap.sql; GUESS,
//     seen in \l on flexible servers, not documented);
//   - the password server admin (ServerAdmin) and every Entra admin are
//     members of azure_pg_admin with CREATEROLE and CREATEDB, and are not
//     superusers; neither is a member of the other, so neither may grant on
//     or alter the other's objects unless made a member of its owner;
//   - what a role creates belongs to it (plain PostgreSQL): tables and
//     schemas that the server admin created belong to the server admin;
//   - a database created through Azure's control plane (the portal, az
//     postgres flexible-server db create, azurerm_postgresql_flexible_server_database)
//     belongs to the server admin: CreateDatabase.

// CreateDatabase creates a database as Azure's control plane does, owned by
// the password server admin (ServerAdmin). With PostgreSQL 15's defaults its
// public schema belongs to pg_database_owner, so to the server admin too,
// and an Entra admin may neither create objects there nor grant on it.
//
// GUESS (cyrilgdn/terraform-provider-postgresql issue 500: "the database
// gets <administrator_login> as the owner"; hashicorp/terraform-provider-azurerm
// issue 27895 reports azuresu as owner on a server that has no password
// admin). The live suite settles it: SELECT datdba::regrole FROM pg_database
// for a database made by azurerm.
func (e *Emulator) CreateDatabase(ctx context.Context, name string) error {
	_, err := e.super.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{ServerAdmin}.Sanitize()))
	return err
}
