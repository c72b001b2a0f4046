\echo Use "ALTER EXTENSION azure_ai UPDATE" to load this file. \quit
CREATE OR REPLACE FUNCTION azure_ai.version() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '1.1.0'::text $$;
