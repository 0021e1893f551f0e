-- Tables for the two reports the hourly rollups of 0013 cannot serve, kept by triggers on calls
-- like those rollups, so that a year of a big tenant reads thousands of narrow rows.
--
-- Tracked calls: the complete inbound calls that call tracking attributed, for the ads report. It
-- groups them by source, medium, campaign and keyword and counts distinct callers, which no hourly
-- sum can add up; a narrow table in the order the calls were written keeps a year of them quick.

CREATE TABLE tracked_calls (
  tenant_id     uuid NOT NULL,
  call_id       text NOT NULL,
  started_at    timestamptz NOT NULL,
  caller        text NOT NULL,
  number        text NOT NULL,
  source        text NOT NULL,
  medium        text NOT NULL,
  campaign      text NOT NULL,
  term          text NOT NULL,
  answered      boolean NOT NULL,
  ring_seconds  integer NOT NULL,
  PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX tracked_calls_by_start ON tracked_calls (tenant_id, started_at);
ALTER TABLE tracked_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE tracked_calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracked_calls
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON tracked_calls TO tel_app;

-- Keeps tracked_calls true to the calls, once per statement that writes calls (see 0013's
-- tel_roll_up_calls and tel_call_changes_sql).
CREATE FUNCTION tel_keep_tracked_calls() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changes text := 'WITH changes AS (' || tel_call_changes_sql(TG_OP) || ') ';
BEGIN
  EXECUTE changes || $sql$
    DELETE FROM tracked_calls t USING changes c
     WHERE c.sign = -1 AND c.direction = 1 AND c.attributed
       AND t.tenant_id = c.tenant_id AND t.call_id = c.call_id $sql$;
  EXECUTE changes || $sql$
    INSERT INTO tracked_calls (tenant_id, call_id, started_at, caller, number, source, medium,
                               campaign, term, answered, ring_seconds)
    SELECT tenant_id, call_id, started_at, caller, called, utm_source, utm_medium, utm_campaign,
           utm_term, disposition = 1, ring_seconds
    FROM changes WHERE sign = 1 AND direction = 1 AND attributed
    ON CONFLICT (tenant_id, call_id) DO UPDATE SET
      started_at = EXCLUDED.started_at, caller = EXCLUDED.caller, number = EXCLUDED.number,
      source = EXCLUDED.source, medium = EXCLUDED.medium, campaign = EXCLUDED.campaign,
      term = EXCLUDED.term, answered = EXCLUDED.answered, ring_seconds = EXCLUDED.ring_seconds $sql$;
  RETURN NULL;
END
$$;
CREATE TRIGGER calls_keep_tracked_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_keep_tracked_calls();
CREATE TRIGGER calls_keep_tracked_update AFTER UPDATE ON calls
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_keep_tracked_calls();

-- The calls stored before this migration, tenant by tenant (row-level security applies).
DO $$
DECLARE
  t uuid;
BEGIN
  FOR t IN SELECT id FROM tenants LOOP
    PERFORM set_config('tel.tenant_id', t::text, true);
    INSERT INTO tracked_calls (tenant_id, call_id, started_at, caller, number, source, medium,
                               campaign, term, answered, ring_seconds)
    SELECT tenant_id, call_id, started_at, caller, called, utm_source, utm_medium, utm_campaign,
           utm_term, disposition = 1, ring_seconds
    FROM calls WHERE tenant_id = t AND complete AND direction = 1 AND attributed
    ORDER BY started_at;
  END LOOP;
  PERFORM set_config('tel.tenant_id', '', true);
END
$$;

-- Target calls: each client's deals in time order, a deal beginning with an answered inbound call
-- whose talk time lies strictly between the tenant's bounds at least a deal window after the
-- previous deal began; that call is the target call. Deals form a chain through the client's
-- whole history, and the chain is causal (a deal depends on earlier calls only), so a call
-- written or changed at time T changes the client's target calls from T on and nothing before:
-- the trigger recomputes that tail (a step or two for a call that arrives in time order). A
-- change of the tenant's bounds or window makes the tenant's table stale (settings_version moves
-- past target_calls_version); analytics reads the calls for its target reports until its
-- maintenance thread has recomputed the table (tel_rebuild_stale_target_calls: seconds for a
-- million calls, too long to hold the settings request).
CREATE TABLE target_calls (
  tenant_id     uuid NOT NULL,
  call_id       text NOT NULL,
  caller        text NOT NULL,
  started_at    timestamptz NOT NULL,
  number        text NOT NULL,
  talk_seconds  integer NOT NULL,
  answered_by   text NOT NULL,
  source        text,                 -- the tracked source, NULL when not attributed (filters)
  utm_source    text NOT NULL,
  utm_medium    text NOT NULL,
  utm_campaign  text NOT NULL,
  utm_term      text NOT NULL,
  PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX target_calls_by_start ON target_calls (tenant_id, started_at);
CREATE INDEX target_calls_by_client ON target_calls (tenant_id, caller, started_at);
ALTER TABLE target_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE target_calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON target_calls
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON target_calls TO tel_app;

ALTER TABLE report_settings
  ADD COLUMN settings_version bigint NOT NULL DEFAULT 1,
  ADD COLUMN target_calls_version bigint NOT NULL DEFAULT 1;
-- The maintenance function below finds every tenant's stale table.
CREATE POLICY definer_maintenance ON report_settings TO tel_owner USING (true) WITH CHECK (true);

-- The tenant's target-call settings (0010's defaults when it has no row). The window is whole
-- days of 86,400 s, not calendar days, so that a deal lasts as long across a DST change.
CREATE FUNCTION tel_target_settings(p_tenant uuid, OUT min_talk integer, OUT max_talk integer,
                                    OUT deal_window interval)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(s.target_min_talk_seconds, 15), coalesce(s.target_max_talk_seconds, 300),
         make_interval(secs => coalesce(s.deal_window_days, 30) * 86400)
  FROM (SELECT 1) one LEFT JOIN report_settings s ON s.tenant_id = p_tenant
$$;

-- Stores call `c` as a target call (or refreshes it).
CREATE FUNCTION tel_add_target_call(c calls) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO target_calls (tenant_id, call_id, caller, started_at, number, talk_seconds, answered_by,
                            source, utm_source, utm_medium, utm_campaign, utm_term)
  VALUES (c.tenant_id, c.call_id, c.caller, c.started_at, c.called, c.talk_seconds, c.answered_by,
          CASE WHEN c.attributed THEN c.utm_source END, c.utm_source, c.utm_medium, c.utm_campaign,
          c.utm_term)
  ON CONFLICT (tenant_id, call_id) DO UPDATE SET
    caller = EXCLUDED.caller, started_at = EXCLUDED.started_at, number = EXCLUDED.number,
    talk_seconds = EXCLUDED.talk_seconds, answered_by = EXCLUDED.answered_by, source = EXCLUDED.source,
    utm_source = EXCLUDED.utm_source, utm_medium = EXCLUDED.utm_medium,
    utm_campaign = EXCLUDED.utm_campaign, utm_term = EXCLUDED.utm_term;
END
$$;

-- Locks on a tenant's target calls: a rebuild takes the tenant's exclusively, a client's tail
-- shares it and takes the client's, so that writers of one client's calls see each other's and
-- a rebuild sees every writer's.
CREATE FUNCTION tel_lock_target_calls(p_tenant uuid, p_client text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_client IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('target-calls/' || p_tenant::text, 0));
  ELSE
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('target-calls/' || p_tenant::text, 0));
    PERFORM pg_advisory_xact_lock(hashtextextended('target-calls/' || p_tenant::text || '/' || p_client, 0));
  END IF;
END
$$;

-- Recomputes the client's target calls from p_from on, after its calls between p_from and
-- p_until changed. It walks the chain from the deal begun last before p_from, deal start by deal
-- start, one index step each (the next candidate at least a deal window on), and stops at the
-- first stored deal start past p_until: the chain from there is as stored. A call that arrives in
-- time order therefore costs a step or two, however many calls its client has.
CREATE FUNCTION tel_rechain_target_calls(p_tenant uuid, p_client text, p_from timestamptz,
                                         p_until timestamptz)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  settings record;
  deal_began timestamptz;
  checked_to timestamptz := p_from;  -- stored targets from here on are not yet confirmed
  checked_inclusive boolean := true;
  next_start calls;
BEGIN
  PERFORM tel_lock_target_calls(p_tenant, p_client);
  SELECT * INTO settings FROM tel_target_settings(p_tenant);
  SELECT max(t.started_at) INTO deal_began FROM target_calls t
   WHERE t.tenant_id = p_tenant AND t.caller = p_client AND t.started_at < p_from;
  LOOP
    SELECT * INTO next_start FROM calls c
     WHERE c.tenant_id = p_tenant AND c.caller = p_client
       AND c.started_at >= CASE WHEN deal_began IS NULL THEN p_from
                                ELSE greatest(p_from, deal_began + settings.deal_window) END
       AND c.complete AND c.direction = 1 AND c.disposition = 1
       AND c.talk_seconds > settings.min_talk AND c.talk_seconds < settings.max_talk
     ORDER BY c.started_at, c.call_id LIMIT 1;
    -- Stored targets between the last confirmed one and the next deal start are not targets.
    DELETE FROM target_calls t
     WHERE t.tenant_id = p_tenant AND t.caller = p_client
       AND (t.started_at > checked_to OR (checked_inclusive AND t.started_at = checked_to))
       AND (next_start.call_id IS NULL OR t.started_at < next_start.started_at
            OR (t.started_at = next_start.started_at AND t.call_id <> next_start.call_id));
    EXIT WHEN next_start.call_id IS NULL;
    EXIT WHEN next_start.started_at > p_until AND EXISTS (
      SELECT 1 FROM target_calls t WHERE t.tenant_id = p_tenant AND t.call_id = next_start.call_id);
    PERFORM tel_add_target_call(next_start);
    deal_began := next_start.started_at;
    checked_to := next_start.started_at;
    checked_inclusive := false;
  END LOOP;
END
$$;

-- Recomputes all of a tenant's target calls: one pass over its candidate calls by client and time.
CREATE FUNCTION tel_rebuild_target_calls(p_tenant uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  settings record;
  client text;
  deal_began timestamptz;
  candidate calls;
BEGIN
  PERFORM tel_lock_target_calls(p_tenant, NULL);
  SELECT * INTO settings FROM tel_target_settings(p_tenant);
  DELETE FROM target_calls WHERE tenant_id = p_tenant;
  FOR candidate IN
    SELECT * FROM calls c
     WHERE c.tenant_id = p_tenant AND c.caller <> '' AND c.complete AND c.direction = 1
       AND c.disposition = 1 AND c.talk_seconds > settings.min_talk AND c.talk_seconds < settings.max_talk
     ORDER BY c.caller, c.started_at, c.call_id
  LOOP
    IF client IS DISTINCT FROM candidate.caller THEN
      client := candidate.caller;
      deal_began := NULL;
    END IF;
    IF deal_began IS NULL OR candidate.started_at >= deal_began + settings.deal_window THEN
      deal_began := candidate.started_at;
      PERFORM tel_add_target_call(candidate);
    END IF;
  END LOOP;
END
$$;

-- Recomputes the target calls of every tenant whose settings changed since they were computed;
-- returns how many tenants. A change made meanwhile leaves its tenant stale for the next run.
CREATE FUNCTION tel_rebuild_stale_target_calls() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  stale record;
  rebuilt integer := 0;
BEGIN
  FOR stale IN SELECT tenant_id, settings_version FROM report_settings
                WHERE settings_version <> target_calls_version LOOP
    PERFORM set_config('tel.tenant_id', stale.tenant_id::text, true);
    PERFORM tel_rebuild_target_calls(stale.tenant_id);
    UPDATE report_settings SET target_calls_version = stale.settings_version
     WHERE tenant_id = stale.tenant_id;
    rebuilt := rebuilt + 1;
  END LOOP;
  PERFORM set_config('tel.tenant_id', '', true);
  RETURN rebuilt;
END
$$;
REVOKE ALL ON FUNCTION tel_rebuild_stale_target_calls() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_rebuild_stale_target_calls() TO tel_app;

-- Keeps target_calls true to the calls, once per statement that writes calls: each client whose
-- answered inbound calls changed has its chain recomputed from the earliest change on.
CREATE FUNCTION tel_keep_target_calls() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  client record;
BEGIN
  FOR client IN EXECUTE 'WITH changes AS (' || tel_call_changes_sql(TG_OP) || $sql$)
      SELECT tenant_id, caller, min(started_at) AS first_change, max(started_at) AS last_change
      FROM changes WHERE direction = 1 AND disposition = 1 AND caller <> ''
      GROUP BY tenant_id, caller $sql$ LOOP
    PERFORM tel_rechain_target_calls(client.tenant_id, client.caller, client.first_change,
                                     client.last_change);
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER calls_keep_target_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_keep_target_calls();
CREATE TRIGGER calls_keep_target_update AFTER UPDATE ON calls
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_keep_target_calls();

DO $$
DECLARE
  t uuid;
BEGIN
  FOR t IN SELECT id FROM tenants LOOP
    PERFORM set_config('tel.tenant_id', t::text, true);
    PERFORM tel_rebuild_target_calls(t);
  END LOOP;
  PERFORM set_config('tel.tenant_id', '', true);
END
$$;
