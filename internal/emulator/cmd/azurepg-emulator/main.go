// Command azurepg-emulator runs the local Azure Database for PostgreSQL
// emulator in the foreground and prints the environment that points the
// provider at it. Stop it with Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 picks a free one)")
	envFile := flag.String("env-file", "", "also write the environment as a shell script to this file")
	lifetime := flag.Duration("token-lifetime", time.Hour, "lifetime of issued access tokens")
	logSQL := flag.Bool("log-statements", false, "log every statement and connection in the server log")
	var databases []string
	flag.Func("database", "create this database as the Entra admin, who owns it (repeatable)", func(s string) error {
		databases = append(databases, s)
		return nil
	})
	flag.Parse()
	if err := run(*port, *envFile, *lifetime, *logSQL, databases); err != nil {
		log.Fatal(err)
	}
}

func run(port int, envFile string, lifetime time.Duration, logSQL bool, databases []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	em, err := emulator.Start(ctx, emulator.Options{
		Port: port, TokenLifetime: lifetime, LogStatements: logSQL,
		Logf: func(format string, args ...any) { log.Printf(format, args...) },
	})
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer em.Stop()
	if err := createDatabases(ctx, em, databases); err != nil {
		return err
	}

	env := em.Env()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	script := ""
	for _, k := range keys {
		script += fmt.Sprintf("export %s=%q\n", k, env[k])
	}
	fmt.Printf("# The emulator is running (started in %s). Point the provider at it with:\n%s", em.StartupTime.Round(time.Millisecond), script)
	fmt.Printf("# Server admin (auth_method = \"password\"): username %q, password %q\n", emulator.ServerAdmin, em.ServerAdminPassword())
	fmt.Printf("# Server log: %s\n# Press Ctrl-C to stop.\n", em.ServerLog())
	if envFile != "" {
		if err := os.WriteFile(envFile, []byte(script), 0o600); err != nil {
			log.Printf("writing %s: %v", envFile, err)
		}
	}
	select {
	case <-ctx.Done():
	case <-waitChan(em):
		return errors.New("postgres exited; see the server log")
	}
	return nil
}

func waitChan(em *emulator.Emulator) <-chan struct{} {
	ch := make(chan struct{})
	go func() { em.Wait(); close(ch) }()
	return ch
}

// createDatabases creates the databases as the Entra admin, so that the admin
// owns them, as a database belongs on Azure to the role that created it.
// GUESS: a database created through ARM (azurerm_postgresql_flexible_server_database)
// belongs to an admin role when one exists and to azuresu otherwise
// (hashicorp/terraform-provider-azurerm#27895); which admin is not
// documented. TestLiveDatabaseOwner would settle it.
func createDatabases(ctx context.Context, em *emulator.Emulator, databases []string) error {
	if len(databases) == 0 {
		return nil
	}
	tok, err := em.IssueToken(ctx, "https://ossrdbms-aad.database.windows.net", "")
	if err != nil {
		return fmt.Errorf("a token for the Entra admin: %w", err)
	}
	conn, err := pgx.Connect(ctx, em.URL(em.AdminName(), tok.Value, "postgres"))
	if err != nil {
		return fmt.Errorf("logging in as the Entra admin: %w", err)
	}
	defer conn.Close(context.Background())
	for _, db := range databases {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return fmt.Errorf("creating database %q: %w", db, err)
		}
	}
	return nil
}
