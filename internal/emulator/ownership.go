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
//   - a database belongs to the role that created it: CreateDatabase makes
//     one that the password server admin owns (who owns a database created
//     through ARM is an open GUESS, see CreateDatabase).

// CreateDatabase creates a database owned by the password server admin
// (ServerAdmin), as when that admin creates it. With PostgreSQL 15's
// defaults its public schema belongs to pg_database_owner, so to the server
// admin too, and an Entra admin may neither create objects there nor grant
// on it until it is made a member of the server admin.
//
// GUESS, open: which role owns a database created through ARM
// (azurerm_postgresql_flexible_server_database). A user of the general
// provider reports the password admin (cyrilgdn/terraform-provider-postgresql
// issue 500), azurerm issue 27895 reports azuresu on a server without one,
// and the emulator's -database flag guesses the Entra admin.
// TestLiveDatabaseOwner (internal/live) settles it.
func (e *Emulator) CreateDatabase(ctx context.Context, name string) error {
	_, err := e.super.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{ServerAdmin}.Sanitize()))
	return err
}
