package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// aiDatabase creates a database (with azure_ai when install is true) and
// drops it after the test.
func aiDatabase(t *testing.T, prefix string, install bool) string {
	t.Helper()
	db := pgtest.Name(prefix)
	pgtest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	t.Cleanup(func() {
		pgtest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	if install {
		pgtest.SuperExec(t, db, "CREATE EXTENSION azure_ai")
	}
	return db
}

func ptr(s string) *string { return &s }

func TestAISettingsApplyReadClear(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	db := aiDatabase(t, `ai db "x'; DROP DATABASE postgres; --é`, true)

	err := c.ApplyAISettings(ctx, db, []pgaad.AISettingChange{
		{Key: pgaad.AIOpenAIEndpoint, Value: ptr("https://a.openai.azure.com")},
		{Key: pgaad.AIOpenAIAuthType, Value: ptr("subscription-key")},
		{Key: pgaad.AIOpenAISubscriptionKey, Value: ptr("k-1")},
		{Key: pgaad.AIMLScoringEndpoint, Value: ptr("https://ml.example.com/score")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.AISettings(ctx, db, []string{pgaad.AIOpenAIEndpoint, pgaad.AIOpenAISubscriptionKey, pgaad.AICognitiveRegion})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[pgaad.AIOpenAIEndpoint] != "https://a.openai.azure.com" || got[pgaad.AIOpenAISubscriptionKey] != "k-1" {
		t.Fatalf("read %v", got)
	}

	// The overview says which keys are set but returns no secret value.
	values, set, err := c.AISettingsOverview(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, leaked := values[pgaad.AIOpenAISubscriptionKey]; leaked || !set[pgaad.AIOpenAISubscriptionKey] {
		t.Fatalf("overview: values %v, set %v", values, set)
	}
	if values[pgaad.AIOpenAIAuthType] != "subscription-key" || set[pgaad.AIMLEndpointKey] || len(set) != len(pgaad.AISettingKeys) {
		t.Fatalf("overview: values %v, set %v", values, set)
	}

	// A failing change rolls back the whole batch: the new key is not set.
	err = c.ApplyAISettings(ctx, db, []pgaad.AISettingChange{
		{Key: pgaad.AICognitiveRegion, Value: ptr("westeurope")},
		{Key: pgaad.AIMLAuthType, Value: ptr("password")},
	})
	if err == nil || !strings.Contains(err.Error(), "azure_ml.auth_type") {
		t.Fatalf("bad auth_type: %v", err)
	}
	got, _ = c.AISettings(ctx, db, []string{pgaad.AICognitiveRegion})
	if len(got) != 0 {
		t.Fatalf("half-applied: %v", got)
	}

	// Clearing removes keys; the others stay.
	if err := c.ApplyAISettings(ctx, db, []pgaad.AISettingChange{{Key: pgaad.AIOpenAISubscriptionKey}}); err != nil {
		t.Fatal(err)
	}
	var n int
	pgtest.SuperQueryRow(t, db, "SELECT count(*) FROM azure_ai.settings_store", nil, &n)
	if n != 3 {
		t.Fatalf("%d keys left, want 3", n)
	}
}

func TestAISettingsErrors(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()

	bare := aiDatabase(t, "ai-bare", false)
	_, err := c.AISettings(ctx, bare, []string{pgaad.AIOpenAIEndpoint})
	var pe *pgaad.Error
	if !errors.Is(err, pgaad.ErrExtensionMissing) || !strings.Contains(err.Error(), "CREATE EXTENSION azure_ai") ||
		!strings.Contains(err.Error(), fmt.Sprintf("database %q", bare)) ||
		!errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicAIExtensionMissing {
		t.Fatalf("extension missing: %v", err)
	}
	err = c.ApplyAISettings(ctx, bare, []pgaad.AISettingChange{{Key: pgaad.AIOpenAIEndpoint, Value: ptr("https://x")}})
	if !errors.Is(err, pgaad.ErrExtensionMissing) {
		t.Fatalf("extension missing on apply: %v", err)
	}

	missing := pgtest.Name("no such db")
	_, err = c.AISettings(ctx, missing, []string{pgaad.AIOpenAIEndpoint})
	if !errors.Is(err, pgaad.ErrDatabaseMissing) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("database missing: %v", err)
	}

	// A login that is not in azure_ai_settings_manager.
	db := aiDatabase(t, "ai-denied", true)
	mi := pgtest.NewObject(t, "managed_identity", "ai-not-manager")
	pgtest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", mi.Name, mi.ObjectID)
	t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{mi.Name}.Sanitize()) })
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity", ClientID: mi.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	e := pgtest.Emulator(t)
	nc := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: mi.Name, SSLMode: "verify-full", SSLRootCert: e.CAFile(), Password: src.Password, Entra: true})
	t.Cleanup(nc.Close)
	err = nc.ApplyAISettings(ctx, db, []pgaad.AISettingChange{{Key: pgaad.AIOpenAISubscriptionKey, Value: ptr("secret-value-42")}})
	if !errors.Is(err, pgaad.ErrPermissionDenied) || !strings.Contains(err.Error(), "azure_ai_settings_manager") {
		t.Fatalf("not a manager: %v", err)
	}
	if strings.Contains(err.Error(), "secret-value-42") {
		t.Fatalf("the key is in the error: %v", err)
	}
}
