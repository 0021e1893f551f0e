-- Routing: where calls to a number go, and the tenant's carriers (SIP trunks).
--
-- Same isolation as everything else (see 0001): carriers has tenant_id, row-level security ENABLED
-- and FORCED, and the tenant policy. sip-edge must find the tenant of a dialled number before it
-- knows any tenant, so that one lookup is a narrow SECURITY DEFINER function at the end.

-- A number's route. The service writes all four columns together; the checks keep a row that
-- someone edits by hand from naming a route it cannot ring.
ALTER TABLE numbers
  ADD COLUMN route_kind text NOT NULL DEFAULT 'none'
    CHECK (route_kind IN ('none', 'extensions', 'external')),
  ADD COLUMN route_extensions text[] NOT NULL DEFAULT '{}',
  ADD COLUMN route_external text NOT NULL DEFAULT '',
  ADD COLUMN ring_timeout_seconds integer NOT NULL DEFAULT 30
    CHECK (ring_timeout_seconds BETWEEN 5 AND 300),
  ADD CONSTRAINT numbers_route_extensions_check
    CHECK (route_kind <> 'extensions' OR cardinality(route_extensions) BETWEEN 1 AND 20),
  ADD CONSTRAINT numbers_route_external_check
    CHECK (route_kind <> 'external' OR route_external <> '');

CREATE TABLE carriers (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- Source addresses accepted for inbound calls; a host address is stored as a /32 (/128) block.
  addresses     cidr[] NOT NULL DEFAULT '{}' CHECK (cardinality(addresses) <= 32),
  -- Where outbound calls go, "sip:[user@]host[:port]"; empty: the carrier is inbound only.
  outbound_uri  text NOT NULL DEFAULT '',
  -- The caller id of outbound calls; empty: the tenant's oldest number.
  caller_id     text NOT NULL DEFAULT '' CHECK (caller_id = '' OR caller_id ~ '^\+[1-9][0-9]{6,14}$'),
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Serves the newest-first lists and the oldest-first choice of the outbound carrier.
CREATE INDEX carriers_tenant_created ON carriers (tenant_id, created_at DESC, id DESC);

ALTER TABLE carriers ENABLE ROW LEVEL SECURITY;
ALTER TABLE carriers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON carriers
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON carriers TO tel_app;

-- sip-edge's lookup of a dialled number: cross-tenant by nature (an INVITE names a number, not a
-- tenant). It answers the one number and, of its own tenant's carriers only, the oldest one whose
-- addresses contain the source address: another tenant's carriers never match. FORCE ROW LEVEL
-- SECURITY binds the owner too, hence owner-only read policies on exactly the tables it reads.
CREATE POLICY definer_lookup ON numbers FOR SELECT TO tel_owner USING (true);
CREATE POLICY definer_lookup ON carriers FOR SELECT TO tel_owner USING (true);

CREATE FUNCTION tel_lookup_inbound_number(p_e164 text, p_source inet)
RETURNS TABLE (tenant_id uuid, number_id uuid, e164 text, channels integer, route_kind text,
               route_extensions text[], route_external text, ring_timeout_seconds integer,
               carrier_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT n.tenant_id, n.id, n.e164, n.channels, n.route_kind, n.route_extensions, n.route_external,
         n.ring_timeout_seconds,
         (SELECT c.id FROM carriers c
          WHERE c.tenant_id = n.tenant_id AND p_source IS NOT NULL
            AND EXISTS (SELECT 1 FROM unnest(c.addresses) AS a(block) WHERE p_source <<= a.block)
          ORDER BY c.created_at, c.id LIMIT 1)
  FROM numbers n WHERE n.e164 = p_e164
$$;
REVOKE ALL ON FUNCTION tel_lookup_inbound_number(text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_lookup_inbound_number(text, inet) TO tel_app;
