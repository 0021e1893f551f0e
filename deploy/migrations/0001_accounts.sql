-- Accounts: tenants, users, SIP accounts, numbers, API keys.
--
-- Tenant isolation is enforced by Postgres itself: every tenant-owned table has tenant_id, row-level
-- security ENABLED and FORCED, and a policy that admits only rows of the tenant named by the
-- transaction-local setting tel.tenant_id. The services connect as tel_app, which owns nothing and
-- has no BYPASSRLS; without tel.tenant_id set, every tenant table looks empty to it.
-- The few operations that must cross tenants (authenticating an API key, the admin's tenant list)
-- are SECURITY DEFINER functions below, each narrow and named for what it does.

CREATE FUNCTION tel_current_tenant() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('tel.tenant_id', true), '')::uuid
$$;

CREATE TABLE tenants (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  sip_domain  text NOT NULL UNIQUE CHECK (sip_domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$'),
  timezone    text NOT NULL DEFAULT 'UTC',
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
-- A tenant sees and changes its own row; creating a tenant happens with tel.tenant_id set to the
-- new id, so the same policy covers it.
CREATE POLICY tenant_isolation ON tenants
  USING (id = tel_current_tenant()) WITH CHECK (id = tel_current_tenant());

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email          text NOT NULL,
  name           text NOT NULL DEFAULT '',
  role           text NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
  password_hash  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
);
CREATE INDEX users_tenant_created ON users (tenant_id, created_at DESC, id DESC);

CREATE TABLE sip_accounts (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  username          text NOT NULL,
  extension         text NOT NULL,
  display_name      text NOT NULL DEFAULT '',
  outbound_allowed  boolean NOT NULL DEFAULT true,
  -- Digest HA1 = H(username:realm:password) with realm = the tenant's SIP domain (RFC 7616/8760).
  ha1_md5           text NOT NULL,
  ha1_sha256        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, username),
  UNIQUE (tenant_id, extension)
);
CREATE INDEX sip_accounts_tenant_created ON sip_accounts (tenant_id, created_at DESC, id DESC);

CREATE TABLE numbers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- Unique across tenants: a number rings exactly one tenant.
  e164        text NOT NULL UNIQUE CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  channels    integer NOT NULL DEFAULT 2 CHECK (channels BETWEEN 1 AND 1000),
  label       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX numbers_tenant_created ON numbers (tenant_id, created_at DESC, id DESC);

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL DEFAULT '',
  -- The visible, unique part of the key; the secret part is kept only as SHA-256 (keys carry 256
  -- random bits, so a fast hash is the right tool here, unlike for passwords).
  prefix      text NOT NULL UNIQUE,
  key_hash    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at DESC, id DESC);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'sip_accounts', 'numbers', 'api_keys'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = tel_current_tenant()) '
                   'WITH CHECK (tenant_id = tel_current_tenant())', t);
  END LOOP;
END
$$;

-- Operator (admin) keys: not tenant data, hence no tenant_id and no RLS.
CREATE TABLE admin_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  prefix      text NOT NULL UNIQUE,
  key_hash    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Cross-tenant operations, run with the owner's rights but answering only what their name says.
-- FORCE ROW LEVEL SECURITY binds the owner too, so the owner gets read policies on exactly the
-- tables these functions read. The services never connect as the owner (it runs migrations only),
-- so for them nothing changes.
CREATE POLICY definer_lookup ON tenants FOR SELECT TO tel_owner USING (true);
CREATE POLICY definer_lookup ON users FOR SELECT TO tel_owner USING (true);
CREATE POLICY definer_lookup ON api_keys FOR SELECT TO tel_owner USING (true);

CREATE FUNCTION tel_find_api_key(p_prefix text)
RETURNS TABLE (id uuid, tenant_id uuid, key_hash text, revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, k.tenant_id, k.key_hash, k.revoked_at IS NOT NULL FROM api_keys k WHERE k.prefix = p_prefix
$$;

CREATE FUNCTION tel_list_tenants(p_limit integer, p_after_created timestamptz, p_after_id uuid)
RETURNS SETOF tenants
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT * FROM tenants
  WHERE p_after_id IS NULL OR (created_at, id) < (p_after_created, p_after_id)
  ORDER BY created_at DESC, id DESC LIMIT p_limit
$$;

-- Dashboard sign-in: the user with this e-mail in any tenant (e-mails are unique per tenant, so
-- several rows may come back; the caller checks the password against each).
CREATE FUNCTION tel_find_users_by_email(p_email text)
RETURNS TABLE (id uuid, tenant_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.tenant_id, u.password_hash FROM users u WHERE u.email = p_email
$$;

REVOKE ALL ON FUNCTION tel_find_api_key(text), tel_list_tenants(integer, timestamptz, uuid),
  tel_find_users_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_find_api_key(text), tel_list_tenants(integer, timestamptz, uuid),
  tel_find_users_by_email(text) TO tel_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, sip_accounts, numbers, api_keys TO tel_app;
GRANT SELECT, INSERT, UPDATE ON admin_keys TO tel_app;
