-- Carriers that authenticate with SIP digest credentials instead of (or besides) calling from
-- listed addresses.
--
-- The password is kept only as digest HA1 values, exactly like a SIP account's (see 0001):
-- H(username ":" realm ":" password) with realm = the tenant's SIP domain, for MD5 and SHA-256.
-- The three columns are all empty (no credentials) or all set; the username is unique within the
-- tenant, because sip-edge finds the credentials by (tenant, username).
ALTER TABLE carriers
  ADD COLUMN auth_username text NOT NULL DEFAULT ''
    CHECK (auth_username ~ '^[A-Za-z0-9._-]{0,64}$'),
  ADD COLUMN auth_ha1_md5 text NOT NULL DEFAULT ''
    CHECK (auth_ha1_md5 ~ '^([0-9a-f]{32})?$'),
  ADD COLUMN auth_ha1_sha256 text NOT NULL DEFAULT ''
    CHECK (auth_ha1_sha256 ~ '^([0-9a-f]{64})?$'),
  ADD CONSTRAINT carriers_auth_check
    CHECK ((auth_username = '') = (auth_ha1_md5 = '') AND (auth_username = '') = (auth_ha1_sha256 = ''));
CREATE UNIQUE INDEX carriers_tenant_auth_username ON carriers (tenant_id, auth_username)
  WHERE auth_username <> '';

-- sip-edge's lookup of a dialled number, as in 0005, plus what it needs to challenge a carrier
-- that calls from an address not listed: the tenant's SIP domain (the digest realm) and whether
-- any of the tenant's carriers has credentials at all (if none, there is nothing to challenge for).
-- The return type grows, which CREATE OR REPLACE cannot do, hence a new function; 0005's stays
-- until no running accounts service calls it any more (a rolling update runs old and new side by
-- side), and a later migration drops it. It reads tenants, numbers and carriers, which already
-- have their owner-only read policies (0001, 0005): FORCE ROW LEVEL SECURITY binds the owner too.
CREATE FUNCTION tel_lookup_inbound_number_v2(p_e164 text, p_source inet)
RETURNS TABLE (tenant_id uuid, number_id uuid, e164 text, channels integer, route_kind text,
               route_extensions text[], route_external text, ring_timeout_seconds integer,
               carrier_id uuid, sip_domain text, carrier_auth boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT n.tenant_id, n.id, n.e164, n.channels, n.route_kind, n.route_extensions, n.route_external,
         n.ring_timeout_seconds,
         (SELECT c.id FROM carriers c
          WHERE c.tenant_id = n.tenant_id AND p_source IS NOT NULL
            AND EXISTS (SELECT 1 FROM unnest(c.addresses) AS a(block) WHERE p_source <<= a.block)
          ORDER BY c.created_at, c.id LIMIT 1),
         t.sip_domain,
         EXISTS (SELECT 1 FROM carriers c WHERE c.tenant_id = n.tenant_id AND c.auth_username <> '')
  FROM numbers n JOIN tenants t ON t.id = n.tenant_id
  WHERE n.e164 = p_e164
$$;
REVOKE ALL ON FUNCTION tel_lookup_inbound_number_v2(text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_lookup_inbound_number_v2(text, inet) TO tel_app;
