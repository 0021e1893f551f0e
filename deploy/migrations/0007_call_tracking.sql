-- Call tracking (dynamic number insertion), owned by the analytics service.
--
-- A site (the tenant's website) has a pool of the tenant's numbers. Each visitor session of the
-- site gets a free pool number, shown on its pages, held while the session is active and for the
-- site's hold period after its last sign of life. Every hold is kept (tracking_holds): a call to a
-- pool number is attributed to the session whose hold covered the moment the call started. A hold
-- only ever grows while it is current and never reaches past its expiry (an expired session gets a
-- new hold), so at most one hold covers any instant of a number, and the attribution of a call
-- does not depend on when it is computed. Static numbers carry a fixed source (print, radio...).

CREATE TABLE tracking_sites (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Public: the snippet on the site's pages names the site with it.
  site_key        text NOT NULL UNIQUE,
  -- Shown to visitors when no pool number is free (and to visitors before the snippet ran).
  default_number  text NOT NULL DEFAULT '',
  hold_seconds    integer NOT NULL DEFAULT 900 CHECK (hold_seconds BETWEEN 60 AND 86400),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_sites_tenant_created ON tracking_sites (tenant_id, created_at DESC, id DESC);

CREATE TABLE tracking_numbers (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- A number tracks for one site at a time, and must be one of the tenant's numbers.
  e164           text PRIMARY KEY REFERENCES numbers(e164) ON DELETE CASCADE,
  site_id        uuid NOT NULL REFERENCES tracking_sites(id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('pool', 'static')),
  -- Static numbers: the source their calls are attributed to.
  utm_source     text NOT NULL DEFAULT '',
  utm_medium     text NOT NULL DEFAULT '',
  utm_campaign   text NOT NULL DEFAULT '',
  -- Pool numbers: the session holding the number, since when, and until when.
  held_by        uuid,
  held_since     timestamptz,
  held_until     timestamptz NOT NULL DEFAULT '-infinity',
  created_at     timestamptz NOT NULL DEFAULT now()
);
-- The free number that has been free longest: reused last, so that a late call to a number
-- finds it still unassigned rather than attributed to a stranger.
CREATE INDEX tracking_numbers_free ON tracking_numbers (site_id, held_until) WHERE kind = 'pool';

CREATE TABLE tracking_sessions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  site_id        uuid NOT NULL REFERENCES tracking_sites(id) ON DELETE CASCADE,
  utm_source     text NOT NULL DEFAULT '',
  utm_medium     text NOT NULL DEFAULT '',
  utm_campaign   text NOT NULL DEFAULT '',
  utm_term       text NOT NULL DEFAULT '',
  utm_content    text NOT NULL DEFAULT '',
  referrer       text NOT NULL DEFAULT '',
  landing_page   text NOT NULL DEFAULT '',
  click_ids      jsonb NOT NULL DEFAULT '{}',  -- gclid, fbclid, yclid, msclkid...
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  -- The number shown now; '' when the pool had none free (the site's default number was shown).
  number         text NOT NULL DEFAULT ''
);
CREATE INDEX tracking_sessions_site_created ON tracking_sessions (tenant_id, site_id, created_at);

CREATE TABLE tracking_holds (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  e164         text NOT NULL,
  held_from    timestamptz NOT NULL,
  held_until   timestamptz NOT NULL,
  session_id   uuid NOT NULL,
  PRIMARY KEY (tenant_id, e164, held_from)
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tracking_sites', 'tracking_numbers', 'tracking_sessions', 'tracking_holds'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = tel_current_tenant()) '
                   'WITH CHECK (tenant_id = tel_current_tenant())', t);
  END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON tracking_sites, tracking_numbers, tracking_sessions,
  tracking_holds TO tel_app;

-- The public snippet names its site by key; which tenant that is, is the one cross-tenant fact
-- the tracking endpoints need.
CREATE POLICY definer_lookup ON tracking_sites FOR SELECT TO tel_owner USING (true);
CREATE FUNCTION tel_find_tracking_site(p_site_key text)
RETURNS TABLE (id uuid, tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, s.tenant_id FROM tracking_sites s WHERE s.site_key = p_site_key
$$;
REVOKE ALL ON FUNCTION tel_find_tracking_site(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_find_tracking_site(text) TO tel_app;

-- The call record carries its source. Empty for calls no tracking number brought.
ALTER TABLE calls
  ADD COLUMN tracking_session_id uuid,
  ADD COLUMN utm_source text NOT NULL DEFAULT '',
  ADD COLUMN utm_medium text NOT NULL DEFAULT '',
  ADD COLUMN utm_campaign text NOT NULL DEFAULT '',
  ADD COLUMN utm_term text NOT NULL DEFAULT '',
  ADD COLUMN utm_content text NOT NULL DEFAULT '',
  ADD COLUMN referrer text NOT NULL DEFAULT '',
  ADD COLUMN landing_page text NOT NULL DEFAULT '',
  ADD COLUMN attributed boolean NOT NULL DEFAULT false;

-- Attribution happens where the record is written, whoever writes it (cdr-ingest, imports, the
-- benchmark's generator): an inbound call not yet attributed takes the source of the session that
-- held its number when it started, or of the static number it called. cdr-ingest's upserts leave
-- these columns alone, so a record is attributed once, by its first version that names the number.
CREATE FUNCTION tel_attribute_call() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  session record;
  fixed record;
BEGIN
  IF NEW.attributed OR NEW.direction <> 1 OR NEW.called = '' THEN
    RETURN NEW;
  END IF;
  SELECT s.* INTO session
    FROM tracking_holds h JOIN tracking_sessions s ON s.id = h.session_id
   WHERE h.tenant_id = NEW.tenant_id AND h.e164 = NEW.called
     AND h.held_from <= NEW.started_at AND NEW.started_at < h.held_until
   ORDER BY h.held_from DESC LIMIT 1;
  IF FOUND THEN
    NEW.tracking_session_id := session.id;
    NEW.utm_source := session.utm_source;
    NEW.utm_medium := session.utm_medium;
    NEW.utm_campaign := session.utm_campaign;
    NEW.utm_term := session.utm_term;
    NEW.utm_content := session.utm_content;
    NEW.referrer := session.referrer;
    NEW.landing_page := session.landing_page;
    NEW.attributed := true;
    RETURN NEW;
  END IF;
  SELECT n.utm_source, n.utm_medium, n.utm_campaign INTO fixed
    FROM tracking_numbers n
   WHERE n.tenant_id = NEW.tenant_id AND n.e164 = NEW.called AND n.kind = 'static';
  IF FOUND THEN
    NEW.utm_source := fixed.utm_source;
    NEW.utm_medium := fixed.utm_medium;
    NEW.utm_campaign := fixed.utm_campaign;
    NEW.attributed := true;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER calls_attribute BEFORE INSERT OR UPDATE OF called, started_at ON calls
  FOR EACH ROW EXECUTE FUNCTION tel_attribute_call();

-- Reports over paid traffic group by these.
CREATE INDEX calls_by_source ON calls (tenant_id, started_at) WHERE attributed;
