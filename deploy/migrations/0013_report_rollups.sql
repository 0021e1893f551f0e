-- Report rollups (analytics): what the reports need from complete call records, kept as the
-- records are written, so that a report over a year reads thousands of rows instead of a million
-- calls.
--
-- call_hour_totals, inbound_hour_lines and account_hours count calls per UTC hour of their start. A tenant whose
-- time zone is a whole number of hours from UTC (almost all) has its local days and hours made of
-- whole UTC hours, so these answer its reports exactly whatever zone it picks later; the analytics
-- service reads the calls themselves for the other zones and for filters the rollups do not keep
-- (extensions).
--
-- The hour tables take one row per change, never an update: a call that completes adds +1 in its
-- hour, a complete call that changes (its category set by hand, say) adds -1 for what it was and
-- +1 for what it is. Writers therefore never wait on one another's rows, whatever order their
-- batches come in. Readers sum the rows. The analytics service merges each hour's rows now and
-- then (tel_compact_report_rollups), which keeps the tables small; it changes no sum.

CREATE TABLE call_hour_totals (
  tenant_id            uuid NOT NULL,
  hour                 timestamptz NOT NULL,  -- the UTC hour the calls started in
  direction            smallint NOT NULL,
  category_id          uuid,
  calls                integer NOT NULL,
  answered             integer NOT NULL,
  answer_ring_seconds  bigint NOT NULL,       -- summed over the answered calls: time to answer
  talk_seconds         bigint NOT NULL,
  compacted            boolean NOT NULL DEFAULT false
);
CREATE INDEX call_hour_totals_by_hour ON call_hour_totals (tenant_id, hour);
CREATE INDEX call_hour_totals_fresh ON call_hour_totals (tenant_id, hour) WHERE NOT compacted;

-- Inbound calls by the tenant's number called and the tracked source (NULL: not attributed), for
-- reports filtered by numbers or sources.
CREATE TABLE inbound_hour_lines (
  tenant_id            uuid NOT NULL,
  hour                 timestamptz NOT NULL,
  number               text NOT NULL,
  source               text,
  calls                integer NOT NULL,
  answered             integer NOT NULL,
  answer_ring_seconds  bigint NOT NULL,
  compacted            boolean NOT NULL DEFAULT false
);
CREATE INDEX inbound_hour_lines_by_hour ON inbound_hour_lines (tenant_id, hour);
CREATE INDEX inbound_hour_lines_fresh ON inbound_hour_lines (tenant_id, hour) WHERE NOT compacted;

-- Per SIP account: inbound and internal calls that rang one of its devices (received), those it
-- answered, with their time to answer and talk time, those nobody answered (missed), and the
-- external calls it placed (outbound). Outbound rows carry no extension: calls name the account
-- only. Counted from the call's legs as they are when the record completes; cdr-ingest writes a
-- batch's legs before its calls for that reason.
CREATE TABLE account_hours (
  tenant_id              uuid NOT NULL,
  hour                   timestamptz NOT NULL,
  account_id             text NOT NULL,
  extension              text NOT NULL,
  received               integer NOT NULL,
  answered               integer NOT NULL,
  missed                 integer NOT NULL,
  answer_ring_seconds    bigint NOT NULL,
  talk_seconds           bigint NOT NULL,   -- of the calls it answered
  outbound               integer NOT NULL,
  outbound_answered      integer NOT NULL,
  outbound_talk_seconds  bigint NOT NULL,
  compacted              boolean NOT NULL DEFAULT false
);
CREATE INDEX account_hours_by_hour ON account_hours (tenant_id, hour);
CREATE INDEX account_hours_fresh ON account_hours (tenant_id, hour) WHERE NOT compacted;

-- Every complete missed inbound call, with the call that processed it: the first later answered
-- call with the same client, the client calling again and being answered or an outbound call to
-- the client that was answered. Kept when either call is written, so that the missed-calls
-- report reads one row per missed call instead of searching each one's later calls.
CREATE TABLE missed_calls (
  tenant_id             uuid NOT NULL,
  call_id               text NOT NULL,
  started_at            timestamptz NOT NULL,
  caller                text NOT NULL,
  number                text NOT NULL,
  source                text,
  disposition           smallint NOT NULL,
  ring_seconds          integer NOT NULL,
  processed_call_id     text,
  processed_started_at  timestamptz,
  processed_at          timestamptz,
  processed_how         text CHECK (processed_how IN ('answered_again', 'called_back')),
  processed_by          text,
  PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX missed_calls_by_start ON missed_calls (tenant_id, started_at);
CREATE INDEX missed_calls_by_client ON missed_calls (tenant_id, caller, started_at);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['call_hour_totals', 'inbound_hour_lines', 'account_hours', 'missed_calls'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = tel_current_tenant()) '
                   'WITH CHECK (tenant_id = tel_current_tenant())', t);
  END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON call_hour_totals, inbound_hour_lines, account_hours, missed_calls
  TO tel_app;
-- Compaction merges every tenant's rows in one statement (the function below, as the owner).
CREATE POLICY definer_maintenance ON call_hour_totals TO tel_owner USING (true) WITH CHECK (true);
CREATE POLICY definer_maintenance ON inbound_hour_lines TO tel_owner USING (true) WITH CHECK (true);
CREATE POLICY definer_maintenance ON account_hours TO tel_owner USING (true) WITH CHECK (true);

-- One call counted (sign 1) or taken back (-1) in the hour tables.
CREATE FUNCTION tel_count_call_hourly(c calls, sign integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO call_hour_totals (tenant_id, hour, direction, category_id, calls, answered,
                                answer_ring_seconds, talk_seconds)
  VALUES (c.tenant_id, date_trunc('hour', c.started_at, 'UTC'), c.direction, c.category_id, sign,
          CASE WHEN c.disposition = 1 THEN sign ELSE 0 END,
          CASE WHEN c.disposition = 1 THEN sign * c.ring_seconds ELSE 0 END, sign * c.talk_seconds);
  INSERT INTO inbound_hour_lines (tenant_id, hour, number, source, calls, answered, answer_ring_seconds)
  SELECT c.tenant_id, date_trunc('hour', c.started_at, 'UTC'), c.called,
         CASE WHEN c.attributed THEN c.utm_source END, sign,
         CASE WHEN c.disposition = 1 THEN sign ELSE 0 END,
         CASE WHEN c.disposition = 1 THEN sign * c.ring_seconds ELSE 0 END
  WHERE c.direction = 1;
  INSERT INTO account_hours (tenant_id, hour, account_id, extension, received, answered, missed,
                             answer_ring_seconds, talk_seconds, outbound, outbound_answered,
                             outbound_talk_seconds)
  SELECT c.tenant_id, date_trunc('hour', c.started_at, 'UTC'), l.account_id, max(l.extension), sign,
         CASE WHEN bool_or(l.leg_id = c.answered_leg_id) THEN sign ELSE 0 END,
         CASE WHEN c.disposition <> 1 THEN sign ELSE 0 END,
         CASE WHEN bool_or(l.leg_id = c.answered_leg_id) THEN sign * c.ring_seconds ELSE 0 END,
         CASE WHEN bool_or(l.leg_id = c.answered_leg_id) THEN sign * c.talk_seconds ELSE 0 END, 0, 0, 0
  FROM call_legs l
  WHERE c.direction IN (1, 3) AND l.tenant_id = c.tenant_id AND l.call_id = c.call_id AND l.account_id <> ''
  GROUP BY l.account_id;
  INSERT INTO account_hours (tenant_id, hour, account_id, extension, received, answered, missed,
                             answer_ring_seconds, talk_seconds, outbound, outbound_answered,
                             outbound_talk_seconds)
  SELECT c.tenant_id, date_trunc('hour', c.started_at, 'UTC'), c.caller_account_id, '', 0, 0, 0, 0, 0,
         sign, CASE WHEN c.disposition = 1 THEN sign ELSE 0 END, sign * c.talk_seconds
  WHERE c.direction = 2 AND c.caller_account_id <> '';
$$;

-- The client a complete answered call processes missed calls of, if any.
CREATE FUNCTION tel_processed_client(c calls) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN NOT c.complete OR c.disposition <> 1 THEN NULL
              WHEN c.direction = 1 THEN nullif(c.caller, '')
              WHEN c.direction = 2 THEN nullif(c.called, '') END
$$;

-- Who processed a missed call by call `c`: whoever answered it again, or the extension that
-- called back (the caller's own number when the account is gone).
CREATE FUNCTION tel_processed_by(c calls) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN c.direction = 1 THEN c.answered_by
              ELSE coalesce((SELECT a.extension FROM sip_accounts a
                             WHERE a.tenant_id = c.tenant_id AND a.id::text = c.caller_account_id),
                            c.caller) END
$$;

-- The call that processed a missed call from `client` at `missed_at`: the first later complete
-- answered call from the client or to it.
CREATE FUNCTION tel_first_processing(p_tenant uuid, p_client text, p_missed_at timestamptz)
RETURNS TABLE (call_id text, started_at timestamptz, answered_at timestamptz, how text, who text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM (
    (SELECT x.call_id, x.started_at, x.answered_at, 'answered_again', tel_processed_by(x)
     FROM calls x
     WHERE x.tenant_id = p_tenant AND x.caller = p_client AND x.started_at > p_missed_at
       AND x.direction = 1 AND x.disposition = 1 AND x.complete
     ORDER BY x.started_at LIMIT 1)
    UNION ALL
    (SELECT x.call_id, x.started_at, x.answered_at, 'called_back', tel_processed_by(x)
     FROM calls x
     WHERE x.tenant_id = p_tenant AND x.called = p_client AND x.started_at > p_missed_at
       AND x.direction = 2 AND x.disposition = 1 AND x.complete
     ORDER BY x.started_at LIMIT 1)) AS candidates
  ORDER BY 2 LIMIT 1
$$;

-- Keeps the rollups true to the calls table: runs after every insert of a complete record and
-- every update that changes what the rollups count (see the triggers' conditions).
CREATE FUNCTION tel_roll_up_call() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  client text;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.complete THEN
    PERFORM tel_count_call_hourly(OLD, -1);
  END IF;
  IF NEW.complete THEN
    PERFORM tel_count_call_hourly(NEW, 1);
  END IF;

  IF NEW.complete AND NEW.direction = 1 AND NEW.disposition <> 1 THEN
    INSERT INTO missed_calls AS m (tenant_id, call_id, started_at, caller, number, source, disposition,
                                   ring_seconds, processed_call_id, processed_started_at, processed_at,
                                   processed_how, processed_by)
    SELECT NEW.tenant_id, NEW.call_id, NEW.started_at, NEW.caller, NEW.called,
           CASE WHEN NEW.attributed THEN NEW.utm_source END, NEW.disposition, NEW.ring_seconds,
           p.call_id, p.started_at, p.answered_at, p.how, p.who
    FROM (SELECT 1) one
    LEFT JOIN LATERAL tel_first_processing(NEW.tenant_id, NEW.caller, NEW.started_at) p
      ON NEW.caller <> ''
    ON CONFLICT (tenant_id, call_id) DO UPDATE SET
      started_at = EXCLUDED.started_at, caller = EXCLUDED.caller, number = EXCLUDED.number,
      source = EXCLUDED.source, disposition = EXCLUDED.disposition, ring_seconds = EXCLUDED.ring_seconds,
      processed_call_id = EXCLUDED.processed_call_id, processed_started_at = EXCLUDED.processed_started_at,
      processed_at = EXCLUDED.processed_at, processed_how = EXCLUDED.processed_how,
      processed_by = EXCLUDED.processed_by;
  ELSIF TG_OP = 'UPDATE' AND OLD.complete AND OLD.direction = 1 AND OLD.disposition <> 1 THEN
    DELETE FROM missed_calls WHERE tenant_id = OLD.tenant_id AND call_id = OLD.call_id;
  END IF;

  -- An answered call processes the client's earlier missed calls that nothing earlier processed.
  client := tel_processed_client(NEW);
  IF client IS NOT NULL THEN
    UPDATE missed_calls m
       SET processed_call_id = NEW.call_id, processed_started_at = NEW.started_at,
           processed_at = NEW.answered_at,
           processed_how = CASE NEW.direction WHEN 1 THEN 'answered_again' ELSE 'called_back' END,
           processed_by = tel_processed_by(NEW)
     WHERE m.tenant_id = NEW.tenant_id AND m.caller = client AND m.started_at < NEW.started_at
       AND (m.processed_started_at IS NULL OR m.processed_started_at > NEW.started_at);
  END IF;
  RETURN NULL;
END
$$;
-- After the BEFORE triggers (attribution, categorization), so the counted row is the stored one.
CREATE TRIGGER calls_roll_up_insert AFTER INSERT ON calls
  FOR EACH ROW WHEN (NEW.complete) EXECUTE FUNCTION tel_roll_up_call();
CREATE TRIGGER calls_roll_up_update AFTER UPDATE ON calls
  FOR EACH ROW WHEN ((OLD.complete OR NEW.complete) AND
    (OLD.complete, OLD.direction, OLD.disposition, OLD.caller, OLD.called, OLD.caller_account_id,
     OLD.started_at, OLD.answered_at, OLD.ring_seconds, OLD.talk_seconds, OLD.answered_by,
     OLD.attributed, OLD.utm_source, OLD.category_id)
    IS DISTINCT FROM
    (NEW.complete, NEW.direction, NEW.disposition, NEW.caller, NEW.called, NEW.caller_account_id,
     NEW.started_at, NEW.answered_at, NEW.ring_seconds, NEW.talk_seconds, NEW.answered_by,
     NEW.attributed, NEW.utm_source, NEW.category_id))
  EXECUTE FUNCTION tel_roll_up_call();

-- Merges the rows of every hour that has new ones into one row per key, for all tenants; returns
-- how many rows it merged. One caller at a time (the others return 0 at once). Rows written while
-- it runs are left for the next run: the statement sees only the rows committed before it began,
-- and deletes exactly the rows it sums.
CREATE FUNCTION tel_compact_report_rollups() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  totals bigint;
  lines bigint;
  accounts bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('tel_compact_report_rollups')) THEN
    RETURN 0;
  END IF;
  WITH touched AS (SELECT DISTINCT tenant_id, hour FROM call_hour_totals WHERE NOT compacted),
  taken AS (
    DELETE FROM call_hour_totals h USING touched t
     WHERE h.tenant_id = t.tenant_id AND h.hour = t.hour RETURNING h.*),
  merged AS (
    INSERT INTO call_hour_totals (tenant_id, hour, direction, category_id, calls, answered,
                                  answer_ring_seconds, talk_seconds, compacted)
    SELECT tenant_id, hour, direction, category_id, sum(calls), sum(answered),
           sum(answer_ring_seconds), sum(talk_seconds), true
    FROM taken GROUP BY tenant_id, hour, direction, category_id
    HAVING sum(calls) <> 0)
  SELECT count(*) INTO totals FROM taken;

  WITH touched AS (SELECT DISTINCT tenant_id, hour FROM inbound_hour_lines WHERE NOT compacted),
  taken AS (
    DELETE FROM inbound_hour_lines h USING touched t
     WHERE h.tenant_id = t.tenant_id AND h.hour = t.hour RETURNING h.*),
  merged AS (
    INSERT INTO inbound_hour_lines (tenant_id, hour, number, source, calls, answered,
                                    answer_ring_seconds, compacted)
    SELECT tenant_id, hour, number, source, sum(calls), sum(answered), sum(answer_ring_seconds), true
    FROM taken GROUP BY tenant_id, hour, number, source
    HAVING sum(calls) <> 0)
  SELECT count(*) INTO lines FROM taken;

  WITH touched AS (SELECT DISTINCT tenant_id, hour FROM account_hours WHERE NOT compacted),
  taken AS (
    DELETE FROM account_hours h USING touched t
     WHERE h.tenant_id = t.tenant_id AND h.hour = t.hour RETURNING h.*),
  merged AS (
    INSERT INTO account_hours (tenant_id, hour, account_id, extension, received, answered, missed,
                               answer_ring_seconds, talk_seconds, outbound, outbound_answered,
                               outbound_talk_seconds, compacted)
    SELECT tenant_id, hour, account_id, extension, sum(received), sum(answered), sum(missed),
           sum(answer_ring_seconds), sum(talk_seconds), sum(outbound), sum(outbound_answered),
           sum(outbound_talk_seconds), true
    FROM taken GROUP BY tenant_id, hour, account_id, extension
    HAVING sum(received) <> 0 OR sum(outbound) <> 0)
  SELECT count(*) INTO accounts FROM taken;
  RETURN totals + lines + accounts;
END
$$;
REVOKE ALL ON FUNCTION tel_compact_report_rollups() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_compact_report_rollups() TO tel_app;

-- The calls stored before this migration, tenant by tenant (row-level security applies).
DO $$
DECLARE
  t uuid;
BEGIN
  FOR t IN SELECT id FROM tenants LOOP
    PERFORM set_config('tel.tenant_id', t::text, true);
    INSERT INTO call_hour_totals (tenant_id, hour, direction, category_id, calls, answered,
                                  answer_ring_seconds, talk_seconds, compacted)
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), direction, category_id, count(*),
           count(*) FILTER (WHERE disposition = 1),
           coalesce(sum(ring_seconds) FILTER (WHERE disposition = 1), 0), sum(talk_seconds), true
    FROM calls WHERE tenant_id = t AND complete
    GROUP BY 1, 2, 3, 4;
    INSERT INTO inbound_hour_lines (tenant_id, hour, number, source, calls, answered,
                                    answer_ring_seconds, compacted)
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), called,
           CASE WHEN attributed THEN utm_source END, count(*), count(*) FILTER (WHERE disposition = 1),
           coalesce(sum(ring_seconds) FILTER (WHERE disposition = 1), 0), true
    FROM calls WHERE tenant_id = t AND complete AND direction = 1
    GROUP BY 1, 2, 3, 4;
    INSERT INTO account_hours (tenant_id, hour, account_id, extension, received, answered, missed,
                               answer_ring_seconds, talk_seconds, outbound, outbound_answered,
                               outbound_talk_seconds, compacted)
    SELECT tenant_id, hour, account_id, max(extension), count(*), count(*) FILTER (WHERE took),
           count(*) FILTER (WHERE disposition <> 1),
           coalesce(sum(ring_seconds) FILTER (WHERE took), 0),
           coalesce(sum(talk_seconds) FILTER (WHERE took), 0), 0, 0, 0, true
    FROM (SELECT c.tenant_id, date_trunc('hour', c.started_at, 'UTC') AS hour, l.account_id,
                 max(l.extension) AS extension, bool_or(l.leg_id = c.answered_leg_id) AS took,
                 min(c.disposition) AS disposition, min(c.ring_seconds) AS ring_seconds,
                 min(c.talk_seconds) AS talk_seconds
          FROM calls c JOIN call_legs l ON l.tenant_id = c.tenant_id AND l.call_id = c.call_id
          WHERE c.tenant_id = t AND c.complete AND c.direction IN (1, 3) AND l.account_id <> ''
          GROUP BY c.tenant_id, c.call_id, l.account_id) offered
    GROUP BY tenant_id, hour, account_id;
    INSERT INTO account_hours (tenant_id, hour, account_id, extension, received, answered, missed,
                               answer_ring_seconds, talk_seconds, outbound, outbound_answered,
                               outbound_talk_seconds, compacted)
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), caller_account_id, '', 0, 0, 0, 0, 0,
           count(*), count(*) FILTER (WHERE disposition = 1), sum(talk_seconds), true
    FROM calls WHERE tenant_id = t AND complete AND direction = 2 AND caller_account_id <> ''
    GROUP BY 1, 2, 3;
    INSERT INTO missed_calls (tenant_id, call_id, started_at, caller, number, source, disposition,
                              ring_seconds, processed_call_id, processed_started_at, processed_at,
                              processed_how, processed_by)
    SELECT c.tenant_id, c.call_id, c.started_at, c.caller, c.called,
           CASE WHEN c.attributed THEN c.utm_source END, c.disposition, c.ring_seconds,
           p.call_id, p.started_at, p.answered_at, p.how, p.who
    FROM calls c
    LEFT JOIN LATERAL tel_first_processing(c.tenant_id, c.caller, c.started_at) p ON c.caller <> ''
    WHERE c.tenant_id = t AND c.complete AND c.direction = 1 AND c.disposition <> 1;
  END LOOP;
  PERFORM set_config('tel.tenant_id', '', true);
END
$$;
