package pgaad

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AI setting keys of the azure_ai extension, as Azure documents them.
const (
	AIOpenAIEndpoint        = "azure_openai.endpoint"
	AIOpenAIAuthType        = "azure_openai.auth_type"
	AIOpenAISubscriptionKey = "azure_openai.subscription_key"

	AICognitiveEndpoint        = "azure_cognitive.endpoint"
	AICognitiveAuthType        = "azure_cognitive.auth_type"
	AICognitiveRegion          = "azure_cognitive.region"
	AICognitiveTranslatorID    = "azure_cognitive.translator_resource_id"
	AICognitiveSubscriptionKey = "azure_cognitive.subscription_key"

	AIMLScoringEndpoint            = "azure_ml.scoring_endpoint"
	AIMLAuthType                   = "azure_ml.auth_type"
	AIMLEndpointKey                = "azure_ml.endpoint_key"
	AIMLServerlessRankingEndpoint  = "azure_ml.serverless_ranking_endpoint"
	AIMLServerlessRankingEndpointK = "azure_ml.serverless_ranking_endpoint_key"
)

// AISetting is one key of the azure_ai extension, as the database side
// needs it: the key and whether its value is a credential. This list is the
// one source of truth for the keys; the provider's words for each (its
// attribute names and docs) are keyed by Key.
type AISetting struct {
	Key string // the azure_ai key, e.g. "azure_openai.subscription_key"
	// Secret: a credential. azure_ai.get_setting returns it in clear text,
	// so its value leaves the server only when asked for by key
	// (AISettings), never in an overview (AISettingsOverview), and is kept
	// out of error texts.
	Secret bool
}

// AISettings lists every key, in a stable order (grouped by service).
var AISettings = []AISetting{
	{AIOpenAIEndpoint, false},
	{AIOpenAIAuthType, false},
	{AIOpenAISubscriptionKey, true},

	{AICognitiveEndpoint, false},
	{AICognitiveAuthType, false},
	{AICognitiveRegion, false},
	{AICognitiveTranslatorID, false},
	{AICognitiveSubscriptionKey, true},

	{AIMLScoringEndpoint, false},
	{AIMLAuthType, false},
	{AIMLEndpointKey, true},
	{AIMLServerlessRankingEndpoint, false},
	{AIMLServerlessRankingEndpointK, true},
}

// AISettingKeys lists every key of the catalog, in its order.
var AISettingKeys = func() []string {
	keys := make([]string, len(AISettings))
	for i, s := range AISettings {
		keys[i] = s.Key
	}
	return keys
}()

// IsSecretAIKey reports whether the catalog marks a key as a credential.
// A key that is not in the catalog is treated as secret.
func IsSecretAIKey(key string) bool {
	for _, s := range AISettings {
		if s.Key == key {
			return s.Secret
		}
	}
	return true
}

func aiObject(database string) Object { return Object{Type: ObjectAISettings, Database: database} }

// AISettingChange sets Key to *Value, or clears it when Value is nil.
type AISettingChange struct {
	Key   string
	Value *string
}

// readSettingsQuery reads many keys in one round trip. With reveal false for
// a key, only whether it is set leaves the server, never its value.
const readSettingsQuery = `
SELECT k.key,
       CASE WHEN k.reveal THEN azure_ai.get_setting(k.key) END,
       azure_ai.get_setting(k.key) IS NOT NULL
  FROM unnest($1::text[], $2::boolean[]) AS k(key, reveal)`

// AISettings reads the given keys of one database, in one query. Unset keys
// are absent from the map.
func (c *Client) AISettings(ctx context.Context, database string, keys []string) (map[string]string, error) {
	reveal := make([]bool, len(keys))
	for i := range reveal {
		reveal[i] = true
	}
	values, _, err := c.readAISettings(ctx, database, keys, reveal)
	return values, err
}

// AISettingsOverview reads every key of one database: the values of the
// non-secret keys and, for every key, whether it is set. Secret values do not
// leave the server.
func (c *Client) AISettingsOverview(ctx context.Context, database string) (values map[string]string, set map[string]bool, err error) {
	reveal := make([]bool, len(AISettingKeys))
	for i, k := range AISettingKeys {
		reveal[i] = !IsSecretAIKey(k)
	}
	return c.readAISettings(ctx, database, AISettingKeys, reveal)
}

func (c *Client) readAISettings(ctx context.Context, database string, keys []string, reveal []bool) (map[string]string, map[string]bool, error) {
	const op = "reading azure_ai settings"
	if len(keys) == 0 {
		return map[string]string{}, map[string]bool{}, nil
	}
	type result struct {
		values map[string]string
		set    map[string]bool
	}
	r, err := read(ctx, c, database, op, func(q querier) (result, error) {
		values, set := map[string]string{}, map[string]bool{}
		rows, err := q.Query(ctx, readSettingsQuery, keys, reveal)
		if err != nil {
			return result{}, err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var value *string
			var isSet bool
			if err := rows.Scan(&key, &value, &isSet); err != nil {
				return result{}, err
			}
			set[key] = isSet
			if value != nil {
				values[key] = *value
			}
		}
		return result{values, set}, rows.Err()
	})
	if err != nil {
		return nil, nil, c.classifyAI(op, database, err)
	}
	return r.values, r.set, nil
}

// ApplyAISettings makes every change in one transaction on the database's
// own pool, in key order, in one round trip: either all keys change or none. Setting a key to a
// value is idempotent, so a second attempt is safe whatever the first did.
func (c *Client) ApplyAISettings(ctx context.Context, database string, changes []AISettingChange) error {
	const op = "applying azure_ai settings"
	if len(changes) == 0 {
		return nil
	}
	sorted := append([]AISettingChange(nil), changes...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	// One pipeline segment: one implicit transaction (all keys or none), in
	// a round trip that other writes to the database may share.
	_, err := writeSegment(ctx, c, database, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (struct{}, error)) {
		steps := make([]pipelineStep, len(sorted))
		for i, ch := range sorted {
			steps[i] = pipelineStep{sql: "SELECT azure_ai.set_setting($1, $2)", args: []any{ch.Key, ch.Value}}
		}
		return steps, func(done int, err error) (struct{}, error) {
			var pgErr *pgconn.PgError
			if err == nil || done >= len(sorted) || !errors.As(err, &pgErr) {
				return struct{}{}, err
			}
			ch := sorted[done]
			e := c.classifyAI(op+" (key "+ch.Key+")", database, err)
			if ch.Value != nil && IsSecretAIKey(ch.Key) {
				e = redact(e, *ch.Value)
			}
			return struct{}{}, e
		}
	}, nil)
	return c.classifyAI(op, database, err)
}

// redact keeps a secret out of an error's text, in case the server echoes it.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "(redacted)"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// classifyAI classifies a failure of op on a database's azure_ai settings.
func (c *Client) classifyAI(op, database string, err error) error {
	return c.classify(op, aiObject(database), err, aiRule)
}

// aiRule is what azure_ai settings add to the common classification.
func aiRule(e *Error, pgErr *pgconn.PgError) {
	switch {
	case pgErr.Code == "3F000" || pgErr.Code == "42883" ||
		(pgErr.Code == "42P01" && strings.Contains(pgErr.Message, "azure_ai")):
		e.Kind = ErrExtensionMissing
		e.Advice = fmt.Sprintf("The azure_ai extension is not installed in database %q (settings are per database). "+
			"Install it (CREATE EXTENSION azure_ai) before the settings. "+
			"On Azure the server parameter azure.extensions must also allow azure_ai.", e.Object.Database)
		e.Fact = Fact{Topic: TopicAIExtensionMissing}
	case pgErr.Code == "42501":
		e.Kind = ErrPermissionDenied
		e.Advice = aiSettingsManagerAdvice
		e.Fact = Fact{Topic: TopicAISettingsManager}
	}
}

// aiSettingsManagerAdvice is what to do when the login may not read or
// change azure_ai settings.
const aiSettingsManagerAdvice = "Only members of azure_ai_settings_manager may read or change azure_ai settings. Azure grants that role to " +
	"azure_pg_admin, so log in as a Microsoft Entra admin of the server, " +
	"or have an admin run: GRANT azure_ai_settings_manager TO <your login>;"
