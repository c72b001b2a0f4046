-- Run once by the bootstrap superuser in the "postgres" database of a new
-- emulator cluster. Everything Azure-specific lives here; texts that Azure
-- does not document are marked GUESS so they are easy to correct.

CREATE ROLE azure_pg_admin NOLOGIN;
CREATE ROLE azure_ai_settings_manager NOLOGIN;
GRANT azure_ai_settings_manager TO azure_pg_admin;
-- GUESS (seen in `\l` on flexible servers, not documented): the postgres
-- database belongs to azure_pg_admin, so Entra admins may create extensions
-- and schemas in it.
ALTER DATABASE postgres OWNER TO azure_pg_admin;
-- The public schema belongs to azure_pg_admin on every version (Learn,
-- *Access management*), not to pg_database_owner: here, and in template1
-- (Emulator.bootstrap), so that every new database's does too.
ALTER SCHEMA public OWNER TO azure_pg_admin;
-- Ownership otherwise follows PostgreSQL: what a role creates belongs to it.
-- The password server admin and the Entra admins are members of
-- azure_pg_admin, not superusers and not members of each other, so one may
-- not grant on the other's objects. Databases made through Azure's control
-- plane belong to the server admin: Emulator.CreateDatabase (ownership.go).

-- The fake Entra tenant: users by UPN, the rest by display name.
CREATE SCHEMA azure_emulator;
REVOKE ALL ON SCHEMA azure_emulator FROM PUBLIC;

CREATE TABLE azure_emulator.tenant (
    tenant_id uuid NOT NULL
);

CREATE TABLE azure_emulator.directory (
    object_id       uuid PRIMARY KEY,
    object_type     text NOT NULL CHECK (object_type IN ('user', 'group', 'service')),
    kind            text NOT NULL CHECK (kind IN ('user', 'group', 'service_principal', 'managed_identity')),
    name            text NOT NULL,           -- UPN for users, display name otherwise
    client_id       uuid,                    -- application (client) id of service principals and identities
    fail_validation boolean NOT NULL DEFAULT false  -- make Entra validation fail (0LP01) for tests
);
CREATE INDEX ON azure_emulator.directory (name);

CREATE FUNCTION azure_emulator.create_role(role_name text, object_type text, object_id uuid,
                                          is_admin boolean, is_mfa boolean)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tid uuid := (SELECT tenant_id FROM azure_emulator.tenant LIMIT 1);
BEGIN
  IF is_admin THEN
    EXECUTE format('CREATE ROLE %I LOGIN CREATEROLE CREATEDB IN ROLE azure_pg_admin', role_name);
  ELSE
    EXECUTE format('CREATE ROLE %I LOGIN', role_name);
  END IF;
  EXECUTE format('SECURITY LABEL FOR "pgaadauth" ON ROLE %I IS %L', role_name,
                 'aadauth' || CASE WHEN is_admin THEN ',admin' ELSE '' END
                           || CASE WHEN is_mfa THEN ',mfa' ELSE '' END);
  EXECUTE format('SECURITY LABEL FOR "pgaadauth-int" ON ROLE %I IS %L', role_name,
                 format('type=%s,oid=%s,tenant_id=%s', object_type, object_id, tid)
                   || CASE WHEN is_admin THEN ',admin' ELSE '' END);
  RETURN 'Created role for ' || quote_ident(role_name);
END
$$;

-- Only Microsoft Entra administrators may create Entra principals: the
-- password server admin, although a member of azure_pg_admin (and so allowed
-- to EXECUTE the functions), gets PostgreSQL's own permission error (text as
-- Azure prints it). GUESS: that Azure decides by the caller's
-- "admin" label (rather than, say, its membership of a hidden role) is
-- inferred; TestLiveCreatePrincipalAsPasswordAdmin would settle it.
-- session_user is the role that logged in (current_user is the functions' owner here).
CREATE FUNCTION azure_emulator.require_entra_admin(fn text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = session_user AND r.rolsuper) THEN
    RETURN;
  END IF;
  IF NOT EXISTS (
      SELECT 1 FROM pg_roles r
      JOIN pg_shseclabel s ON s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass
      WHERE r.rolname = session_user AND s.provider = 'pgaadauth'
        AND 'admin' = ANY (string_to_array(replace(s.label, ' ', ''), ','))) THEN
    RAISE EXCEPTION 'permission denied for function %', fn USING ERRCODE = '42501';
  END IF;
END
$$;

CREATE FUNCTION public.pgaadauth_create_principal(roleName text, isAdmin boolean, isMfa boolean)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  matches int;
  obj azure_emulator.directory;
BEGIN
  PERFORM azure_emulator.require_entra_admin('pgaadauth_create_principal');
  SELECT count(*) INTO matches FROM azure_emulator.directory d WHERE d.name = roleName;
  IF matches = 0 THEN
    -- Text as Azure prints it; the SQLSTATE is a GUESS.
    RAISE EXCEPTION 'Could not validate AAD user % because its name is not found in the tenant. Make sure that the user exists in the tenant.', roleName
      USING ERRCODE = 'XX000';
  END IF;
  IF matches > 1 THEN
    -- GUESS: Azure does not document the text for a display name shared by several objects.
    RAISE EXCEPTION 'Could not validate AAD user % because more than one principal with this name exists in the tenant. Use pgaadauth_create_principal_with_oid with the object id.', roleName
      USING ERRCODE = '0LP01';
  END IF;
  SELECT * INTO obj FROM azure_emulator.directory d WHERE d.name = roleName;
  IF obj.fail_validation THEN
    RAISE EXCEPTION 'An unexpected error occurred while trying to validate user' USING ERRCODE = '0LP01';
  END IF;
  RETURN azure_emulator.create_role(roleName, obj.object_type, obj.object_id, isAdmin, isMfa);
END
$$;

CREATE FUNCTION public.pgaadauth_create_principal_with_oid(roleName text, objectId text, objectType text,
                                                           isAdmin boolean, isMfa boolean)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  obj azure_emulator.directory;
BEGIN
  PERFORM azure_emulator.require_entra_admin('pgaadauth_create_principal_with_oid');
  -- The object id avoids the name lookup, not the directory: Azure checks a
  -- known object's type (text and SQLSTATE from MicrosoftDocs/azure-docs
  -- issue 102814, quotes included).
  SELECT * INTO obj FROM azure_emulator.directory d WHERE d.object_id = objectId::uuid;
  IF FOUND THEN
    IF objectType IS DISTINCT FROM obj.object_type THEN
      RAISE EXCEPTION 'incorrect object type provided for principal, given object type: ''%'', actual object type: ''%''',
        coalesce(objectType, ''), obj.object_type USING ERRCODE = 'XX000';
    END IF;
    IF obj.fail_validation THEN
      RAISE EXCEPTION 'An unexpected error occurred while trying to validate user' USING ERRCODE = '0LP01';
    END IF;
    RETURN azure_emulator.create_role(roleName, objectType, obj.object_id, isAdmin, isMfa);
  END IF;
  -- GUESS: for an unknown object, a type outside user/group/service gets Azure's prefix alone.
  IF objectType IS NULL OR objectType NOT IN ('user', 'group', 'service') THEN
    RAISE EXCEPTION 'incorrect object type provided for principal' USING ERRCODE = 'XX000';
  END IF;
  -- GUESS: an object id the directory does not know (a typo, another tenant,
  -- or an identity created seconds ago that directory replication has not
  -- made visible yet) is refused; Azure's text and SQLSTATE for it are not
  -- documented. TestLiveCreatePrincipalUnknownObjectID would settle them.
  RAISE EXCEPTION 'Could not validate AAD principal % because its object id % is not found in the tenant. Make sure that the principal exists in the tenant.',
    roleName, objectId USING ERRCODE = 'XX000';
END
$$;

-- Reads both label forms: the current pair ("pgaadauth" = aadauth[,admin][,mfa] and
-- "pgaadauth-int" = type=..,oid=..,tenant_id=..[,admin]) and the older single
-- "pgaadauth" label (aadauth,oid=..,type=..[,admin]).
CREATE FUNCTION public.pgaadauth_list_principals(isAdmin boolean)
RETURNS TABLE (rolname name, principaltype text, objectid text, tenantid text, ismfa integer, isadmin integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  WITH labels AS (
    SELECT r.rolname, string_to_array(string_agg(s.label, ',' ORDER BY s.provider), ',') AS tok
    FROM pg_roles r
    JOIN pg_shseclabel s ON s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass
    WHERE s.provider IN ('pgaadauth', 'pgaadauth-int')
    GROUP BY r.rolname
  )
  SELECT l.rolname,
         (SELECT substr(t, 6) FROM unnest(l.tok) t WHERE t LIKE 'type=%' LIMIT 1),
         (SELECT substr(t, 5) FROM unnest(l.tok) t WHERE t LIKE 'oid=%' LIMIT 1),
         (SELECT substr(t, 11) FROM unnest(l.tok) t WHERE t LIKE 'tenant_id=%' LIMIT 1),
         CASE WHEN 'mfa' = ANY (l.tok) THEN 1 ELSE 0 END,
         CASE WHEN 'admin' = ANY (l.tok) THEN 1 ELSE 0 END
  FROM labels l
  WHERE 'aadauth' = ANY (l.tok) AND (NOT isAdmin OR 'admin' = ANY (l.tok))
  ORDER BY l.rolname
$$;

REVOKE ALL ON FUNCTION public.pgaadauth_create_principal(text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.pgaadauth_create_principal_with_oid(text, text, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.pgaadauth_list_principals(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.pgaadauth_create_principal(text, boolean, boolean) TO azure_pg_admin;
GRANT EXECUTE ON FUNCTION public.pgaadauth_create_principal_with_oid(text, text, text, boolean, boolean) TO azure_pg_admin;
GRANT EXECUTE ON FUNCTION public.pgaadauth_list_principals(boolean) TO azure_pg_admin;
