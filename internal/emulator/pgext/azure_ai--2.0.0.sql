\echo Use "CREATE EXTENSION azure_ai" to load this file. \quit

-- azure_ai 2.0.0, the version Azure ships on PostgreSQL 18 (1.3.1 on 12-17).
-- GUESS: same SQL as 1.3.1 (only version() differs); no public source was
-- read for what 2.0.0 changed. TestLiveAzureAIDefaultVersion (internal/live)
-- reports the versions a real server offers.

-- Settings are stored per database, readable only through the functions below.
CREATE TABLE azure_ai.settings_store (
    key   text PRIMARY KEY,
    value text NOT NULL
);
REVOKE ALL ON azure_ai.settings_store FROM PUBLIC;

CREATE FUNCTION azure_ai.known_setting(key text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT key = ANY (ARRAY[
    'azure_openai.endpoint', 'azure_openai.subscription_key', 'azure_openai.auth_type',
    'azure_cognitive.endpoint', 'azure_cognitive.subscription_key', 'azure_cognitive.auth_type',
    'azure_cognitive.region', 'azure_cognitive.translator_resource_id',
    'azure_ml.scoring_endpoint', 'azure_ml.endpoint_key', 'azure_ml.auth_type',
    'azure_ml.serverless_ranking_endpoint', 'azure_ml.serverless_ranking_endpoint_key'])
$$;

-- set_setting(key, NULL) removes the setting (get_setting returns NULL afterwards).
CREATE FUNCTION azure_ai.set_setting(key text, value text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT azure_ai.known_setting(key) THEN
    RAISE EXCEPTION 'Invalid setting key "%"', key
      USING ERRCODE = '22023', HINT = 'Valid keys start with azure_openai., azure_cognitive. or azure_ml.';
  END IF;
  IF key LIKE '%.auth_type' AND value IS NOT NULL
     AND value NOT IN ('managed-identity', 'subscription-key') THEN
    RAISE EXCEPTION 'Invalid value "%" for setting "%"', value, key
      USING ERRCODE = '22023', HINT = 'auth_type must be managed-identity or subscription-key.';
  END IF;
  IF value IS NULL THEN
    DELETE FROM azure_ai.settings_store s WHERE s.key = set_setting.key;
  ELSE
    INSERT INTO azure_ai.settings_store AS s (key, value) VALUES (set_setting.key, set_setting.value)
    ON CONFLICT ON CONSTRAINT settings_store_pkey DO UPDATE SET value = EXCLUDED.value;
  END IF;
END
$$;

CREATE FUNCTION azure_ai.get_setting(key text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v text;
BEGIN
  IF NOT azure_ai.known_setting(key) THEN
    RAISE EXCEPTION 'Invalid setting key "%"', key USING ERRCODE = '22023';
  END IF;
  SELECT s.value INTO v FROM azure_ai.settings_store s WHERE s.key = get_setting.key;
  RETURN v;
END
$$;

CREATE FUNCTION azure_ai.version() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '2.0.0'::text $$;

REVOKE ALL ON FUNCTION azure_ai.set_setting(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION azure_ai.get_setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION azure_ai.set_setting(text, text) TO azure_ai_settings_manager;
GRANT EXECUTE ON FUNCTION azure_ai.get_setting(text) TO azure_ai_settings_manager;
GRANT USAGE ON SCHEMA azure_ai TO PUBLIC;
