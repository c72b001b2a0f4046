package pgaad

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
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

// AIService is one service of the azure_ai extension: its keys share the
// prefix Block + ".".
type AIService struct {
	Block string // e.g. "azure_openai"; also the provider's block name
	Title string // e.g. "Azure OpenAI"
}

// AISetting is one key of the azure_ai extension. This catalog is the one
// source of truth for the keys: it drives pgaad's secrecy (a secret value
// never leaves the server unless asked for by key) and the provider's
// resource schema, import and data source.
type AISetting struct {
	Key       string // the azure_ai key, e.g. "azure_openai.subscription_key"
	Block     string // the service (AIService.Block)
	Attribute string // the provider attribute, e.g. "subscription_key"
	// Secret: a credential. azure_ai.get_setting returns it in clear text,
	// so it is never logged or shown; the data source reports only whether
	// it is set, and the resource offers the write-only variant.
	Secret bool
	// WriteOnly and WriteOnlyVersion name the write-only variant of a
	// secret and the number that makes Terraform send it again.
	WriteOnly, WriteOnlyVersion string
	// Endpoint is, for a secret, the attribute of the endpoint it
	// authenticates to.
	Endpoint string
	URL      bool   // must be an https URL
	AuthType bool   // managed-identity or subscription-key
	Doc      string // what the setting is, for the provider's docs
}

// AIServices lists the services in a stable order.
var AIServices = []AIService{
	{Block: "azure_openai", Title: "Azure OpenAI"},
	{Block: "azure_cognitive", Title: "Azure AI services (Cognitive Services)"},
	{Block: "azure_ml", Title: "Azure Machine Learning"},
}

// AISettings lists every key, in a stable order (grouped by service).
var AISettings = []AISetting{
	aiPlain(AIOpenAIEndpoint, true, "The Azure OpenAI endpoint, e.g. `https://myaccount.openai.azure.com`."),
	aiAuthType(AIOpenAIAuthType),
	aiSecret(AIOpenAISubscriptionKey, "endpoint", "An Azure OpenAI API key."),

	aiPlain(AICognitiveEndpoint, true, "The Azure AI services endpoint, e.g. `https://myaccount.cognitiveservices.azure.com`."),
	aiAuthType(AICognitiveAuthType),
	aiPlain(AICognitiveRegion, false, "The Azure region of the AI services resource, e.g. `westeurope` (needed by the translator)."),
	aiPlain(AICognitiveTranslatorID, false, "The ARM resource id of the translator resource (needed for translation with managed identity)."),
	aiSecret(AICognitiveSubscriptionKey, "endpoint", "An Azure AI services key."),

	aiPlain(AIMLScoringEndpoint, true, "The scoring URI of the Azure Machine Learning online endpoint."),
	aiAuthType(AIMLAuthType),
	aiSecret(AIMLEndpointKey, "scoring_endpoint", "A key of the scoring endpoint."),
	aiPlain(AIMLServerlessRankingEndpoint, true, "The URI of a serverless ranking (reranker) endpoint."),
	aiSecret(AIMLServerlessRankingEndpointK, "serverless_ranking_endpoint", "A key of the serverless ranking endpoint."),
}

func aiSetting(key string) AISetting {
	block, attribute, _ := strings.Cut(key, ".")
	return AISetting{Key: key, Block: block, Attribute: attribute}
}

func aiPlain(key string, url bool, doc string) AISetting {
	s := aiSetting(key)
	s.URL, s.Doc = url, doc
	return s
}

func aiAuthType(key string) AISetting {
	s := aiSetting(key)
	s.AuthType = true
	return s
}

func aiSecret(key, endpoint, doc string) AISetting {
	s := aiSetting(key)
	s.Secret, s.Endpoint, s.Doc = true, endpoint, doc
	s.WriteOnly, s.WriteOnlyVersion = s.Attribute+"_wo", s.Attribute+"_wo_version"
	return s
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
// own pool, in key order: either all keys change or none. Setting a key to a
// value is idempotent, so a second attempt is safe whatever the first did.
func (c *Client) ApplyAISettings(ctx context.Context, database string, changes []AISettingChange) error {
	const op = "applying azure_ai settings"
	if len(changes) == 0 {
		return nil
	}
	sorted := append([]AISettingChange(nil), changes...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	_, err := write(ctx, c, database, op, func(tx pgx.Tx) (struct{}, error) {
		for _, ch := range sorted {
			if _, err := tx.Exec(ctx, "SELECT azure_ai.set_setting($1, $2)", ch.Key, ch.Value); err != nil {
				e := c.classifyAI(op+" (key "+ch.Key+")", database, err)
				if ch.Value != nil && IsSecretAIKey(ch.Key) {
					e = redact(e, *ch.Value)
				}
				return struct{}{}, e
			}
		}
		return struct{}{}, nil
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
			"Install it with this provider, and make the settings depend on it:\n\n"+
			"  resource \"azurepg_extension\" \"azure_ai\" {\n    name     = \"azure_ai\"\n    database = %s\n  }\n\n"+
			"On Azure the server parameter azure.extensions must also allow azure_ai "+
			"(azurerm_postgresql_flexible_server_configuration).", e.Object.Database, hclquote.String(e.Object.Database))
	case pgErr.Code == "42501":
		e.Kind = ErrPermissionDenied
		e.Advice = "Only members of azure_ai_settings_manager may read or change azure_ai settings. Azure grants that role to " +
			"azure_pg_admin, so log in as a Microsoft Entra admin of the server (azurepg_principal with admin = true), " +
			"or have an admin run: GRANT azure_ai_settings_manager TO <your login>;"
	}
}
