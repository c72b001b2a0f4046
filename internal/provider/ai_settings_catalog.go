package provider

import (
	"strings"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// aiField is one setting of a service block of azurepg_ai_settings and
// azurepg_ai_settings data source. Its key, "<Block>.<Attribute>" exactly as
// azure_ai names it, and its secrecy come from pgaad's catalog
// (pgaad.AISettings, the one source of truth for the keys); the rest is how
// Terraform shows it, from aiWords.
type aiField struct {
	Key       string // the azure_ai key, e.g. "azure_openai.subscription_key"
	Block     string // the service's block (aiService.block)
	Attribute string // the attribute in the block, e.g. "subscription_key"
	// Secret: a credential (pgaad.AISetting.Secret): sensitive, only
	// reported as set by the data source, and offered write-only.
	Secret bool
	// WriteOnly and WriteOnlyVersion name the write-only variant of a
	// secret and the number that makes Terraform send it again.
	WriteOnly, WriteOnlyVersion string
	// Endpoint is, for a secret, the attribute of the endpoint it
	// authenticates to.
	Endpoint string
	URL      bool   // must be an https URL
	AuthType bool   // managed-identity or subscription-key
	Doc      string // what the setting is, for the docs (Markdown)
}

// aiService is one block: a service of the azure_ai extension, whose keys
// share the prefix block + ".".
type aiService struct {
	block  string
	title  string
	fields []aiField
}

// aiServiceTitles are the blocks, in the schema's order.
var aiServiceTitles = []struct{ block, title string }{
	{"azure_openai", "Azure OpenAI"},
	{"azure_cognitive", "Azure AI services (Cognitive Services)"},
	{"azure_ml", "Azure Machine Learning"},
}

// aiWord is the Terraform side of one key: a plain setting (url says
// whether it must be an https URL), an authentication type, or a secret
// with the endpoint attribute it authenticates to.
type aiWord struct {
	doc      string
	url      bool
	authType bool
	endpoint string // secrets only
}

// aiWords is keyed by the azure_ai key. TestAICatalog checks that it and
// pgaad.AISettings list the same keys, and that exactly the secrets name an
// endpoint.
var aiWords = map[string]aiWord{
	pgaad.AIOpenAIEndpoint:        {doc: "The Azure OpenAI endpoint, e.g. `https://myaccount.openai.azure.com`.", url: true},
	pgaad.AIOpenAIAuthType:        {authType: true},
	pgaad.AIOpenAISubscriptionKey: {doc: "An Azure OpenAI API key.", endpoint: "endpoint"},

	pgaad.AICognitiveEndpoint:        {doc: "The Azure AI services endpoint, e.g. `https://myaccount.cognitiveservices.azure.com`.", url: true},
	pgaad.AICognitiveAuthType:        {authType: true},
	pgaad.AICognitiveRegion:          {doc: "The Azure region of the AI services resource, e.g. `westeurope` (needed by the translator)."},
	pgaad.AICognitiveTranslatorID:    {doc: "The ARM resource id of the translator resource (needed for translation with managed identity)."},
	pgaad.AICognitiveSubscriptionKey: {doc: "An Azure AI services key.", endpoint: "endpoint"},

	pgaad.AIMLScoringEndpoint:            {doc: "The scoring URI of the Azure Machine Learning online endpoint.", url: true},
	pgaad.AIMLAuthType:                   {authType: true},
	pgaad.AIMLEndpointKey:                {doc: "A key of the scoring endpoint.", endpoint: "scoring_endpoint"},
	pgaad.AIMLServerlessRankingEndpoint:  {doc: "The URI of a serverless ranking (reranker) endpoint.", url: true},
	pgaad.AIMLServerlessRankingEndpointK: {doc: "A key of the serverless ranking endpoint.", endpoint: "serverless_ranking_endpoint"},
}

// newAIField is the field of one key of pgaad's catalog.
func newAIField(s pgaad.AISetting) aiField {
	block, attribute, _ := strings.Cut(s.Key, ".")
	w := aiWords[s.Key]
	f := aiField{Key: s.Key, Block: block, Attribute: attribute, Secret: s.Secret,
		URL: w.url, AuthType: w.authType, Doc: w.doc}
	if s.Secret {
		f.Endpoint = w.endpoint
		f.WriteOnly, f.WriteOnlyVersion = attribute+"_wo", attribute+"_wo_version"
	}
	return f
}

// aiServices are the blocks with their fields, in pgaad's order of keys.
var aiServices = func() []aiService {
	var out []aiService
	for _, svc := range aiServiceTitles {
		s := aiService{block: svc.block, title: svc.title}
		for _, k := range pgaad.AISettings {
			if f := newAIField(k); f.Block == svc.block {
				s.fields = append(s.fields, f)
			}
		}
		out = append(out, s)
	}
	return out
}()
