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
-- The hour tables take rows of changes, never an update: a statement that completes calls adds
-- their counts per hour and key, one that changes complete calls (a category set by hand, say)
-- takes back what they were and adds what they are. Writers therefore never wait on one another's
-- rows, whatever order their batches come in. Readers sum the rows. The analytics service merges
-- each hour's rows now and then (tel_compact_report_rollups), which keeps the tables small; it
-- changes no sum.

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

-- Who processed a missed call by an answered call: whoever answered it again (inbound), or the
-- extension that called back (outbound; the caller's own name when the account is gone).
CREATE FUNCTION tel_processed_by(p_tenant uuid, p_direction smallint, p_answered_by text,
                                 p_caller_account_id text, p_caller text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_direction = 1 THEN p_answered_by
              ELSE coalesce((SELECT a.extension FROM sip_accounts a
                             WHERE a.tenant_id = p_tenant AND a.id::text = p_caller_account_id),
                            p_caller) END
$$;

-- The call that processed a missed call from `client` at `missed_at`: the first later complete
-- answered call from the client or to it.
CREATE FUNCTION tel_first_processing(p_tenant uuid, p_client text, p_missed_at timestamptz)
RETURNS TABLE (call_id text, started_at timestamptz, answered_at timestamptz, how text, who text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM (
    (SELECT x.call_id, x.started_at, x.answered_at, 'answered_again',
            tel_processed_by(x.tenant_id, x.direction, x.answered_by, x.caller_account_id, x.caller)
     FROM calls x
     WHERE x.tenant_id = p_tenant AND x.caller = p_client AND x.started_at > p_missed_at
       AND x.direction = 1 AND x.disposition = 1 AND x.complete
     ORDER BY x.started_at LIMIT 1)
    UNION ALL
    (SELECT x.call_id, x.started_at, x.answered_at, 'called_back',
            tel_processed_by(x.tenant_id, x.direction, x.answered_by, x.caller_account_id, x.caller)
     FROM calls x
     WHERE x.tenant_id = p_tenant AND x.called = p_client AND x.started_at > p_missed_at
       AND x.direction = 2 AND x.disposition = 1 AND x.complete
     ORDER BY x.started_at LIMIT 1)) AS candidates
  ORDER BY 2 LIMIT 1
$$;

-- The changes of one statement on calls, as a query over its transition tables (new_rows, and
-- old_rows for an update): a complete record counted (+1) or taken back (-1) whenever anything
-- the reports read changed. Its columns: sign, then those of calls.
CREATE FUNCTION tel_call_changes_sql(p_operation text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_operation
    WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n WHERE n.complete'
    ELSE 'WITH changed AS (
            SELECT o.tenant_id, o.call_id FROM old_rows o JOIN new_rows n USING (tenant_id, call_id)
            WHERE (o.complete OR n.complete) AND
              (o.complete, o.direction, o.disposition, o.caller, o.called, o.caller_account_id,
               o.started_at, o.answered_at, o.ring_seconds, o.talk_seconds, o.answered_leg_id,
               o.answered_by, o.attributed, o.utm_source, o.utm_medium, o.utm_campaign, o.utm_term,
               o.category_id)
              IS DISTINCT FROM
              (n.complete, n.direction, n.disposition, n.caller, n.called, n.caller_account_id,
               n.started_at, n.answered_at, n.ring_seconds, n.talk_seconds, n.answered_leg_id,
               n.answered_by, n.attributed, n.utm_source, n.utm_medium, n.utm_campaign, n.utm_term,
               n.category_id))
          SELECT -1 AS sign, o.* FROM old_rows o JOIN changed USING (tenant_id, call_id) WHERE o.complete
          UNION ALL
          SELECT 1, n.* FROM new_rows n JOIN changed USING (tenant_id, call_id) WHERE n.complete'
  END
$$;

-- Keeps the rollups true to the calls table, once per statement that writes calls: cdr-ingest
-- upserts a batch of records in one statement, so a batch costs a few set-based statements here
-- instead of a trigger per record. Runs after the BEFORE row triggers (attribution,
-- categorization): it counts the rows as stored.
CREATE FUNCTION tel_roll_up_calls() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changes text := 'WITH changes AS (' || tel_call_changes_sql(TG_OP) || ') ';
BEGIN
  EXECUTE changes || $sql$
    INSERT INTO call_hour_totals (tenant_id, hour, direction, category_id, calls, answered,
                                  answer_ring_seconds, talk_seconds)
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), direction, category_id, sum(sign),
           coalesce(sum(sign) FILTER (WHERE disposition = 1), 0),
           coalesce(sum(sign * ring_seconds) FILTER (WHERE disposition = 1), 0), sum(sign * talk_seconds)
    FROM changes GROUP BY 1, 2, 3, 4 $sql$;
  EXECUTE changes || $sql$
    INSERT INTO inbound_hour_lines (tenant_id, hour, number, source, calls, answered, answer_ring_seconds)
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), called,
           CASE WHEN attributed THEN utm_source END, sum(sign),
           coalesce(sum(sign) FILTER (WHERE disposition = 1), 0),
           coalesce(sum(sign * ring_seconds) FILTER (WHERE disposition = 1), 0)
    FROM changes WHERE direction = 1 GROUP BY 1, 2, 3, 4 $sql$;
  -- Per account: the calls that rang it, from their legs (cdr-ingest writes a batch's legs before
  -- its calls), and the external calls it placed.
  EXECUTE changes || $sql$,
    offered AS (
      SELECT c.sign, c.tenant_id, c.started_at, c.disposition, c.ring_seconds, c.talk_seconds,
             l.account_id, max(l.extension) AS extension, bool_or(l.leg_id = c.answered_leg_id) AS took
      FROM changes c JOIN call_legs l ON l.tenant_id = c.tenant_id AND l.call_id = c.call_id
      WHERE c.direction IN (1, 3) AND l.account_id <> ''
      GROUP BY c.sign, c.tenant_id, c.call_id, c.started_at, c.disposition, c.ring_seconds,
               c.talk_seconds, l.account_id)
    INSERT INTO account_hours (tenant_id, hour, account_id, extension, received, answered, missed,
                               answer_ring_seconds, talk_seconds, outbound, outbound_answered,
                               outbound_talk_seconds)
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), account_id, max(extension), sum(sign),
           coalesce(sum(sign) FILTER (WHERE took), 0), coalesce(sum(sign) FILTER (WHERE disposition <> 1), 0),
           coalesce(sum(sign * ring_seconds) FILTER (WHERE took), 0),
           coalesce(sum(sign * talk_seconds) FILTER (WHERE took), 0), 0, 0, 0
    FROM offered GROUP BY 1, 2, 3
    UNION ALL
    SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), caller_account_id, '', 0, 0, 0, 0, 0,
           sum(sign), coalesce(sum(sign) FILTER (WHERE disposition = 1), 0), sum(sign * talk_seconds)
    FROM changes WHERE direction = 2 AND caller_account_id <> '' GROUP BY 1, 2, 3 $sql$;

  -- Missed calls: those that are no longer, then those that are (with what processed them).
  EXECUTE changes || $sql$
    DELETE FROM missed_calls m USING changes c
     WHERE c.sign = -1 AND c.direction = 1 AND c.disposition <> 1
       AND m.tenant_id = c.tenant_id AND m.call_id = c.call_id $sql$;
  EXECUTE changes || $sql$
    INSERT INTO missed_calls (tenant_id, call_id, started_at, caller, number, source, disposition,
                              ring_seconds, processed_call_id, processed_started_at, processed_at,
                              processed_how, processed_by)
    SELECT c.tenant_id, c.call_id, c.started_at, c.caller, c.called,
           CASE WHEN c.attributed THEN c.utm_source END, c.disposition, c.ring_seconds,
           p.call_id, p.started_at, p.answered_at, p.how, p.who
    FROM changes c
    LEFT JOIN LATERAL tel_first_processing(c.tenant_id, c.caller, c.started_at) p ON c.caller <> ''
    WHERE c.sign = 1 AND c.direction = 1 AND c.disposition <> 1
    ON CONFLICT (tenant_id, call_id) DO UPDATE SET
      started_at = EXCLUDED.started_at, caller = EXCLUDED.caller, number = EXCLUDED.number,
      source = EXCLUDED.source, disposition = EXCLUDED.disposition, ring_seconds = EXCLUDED.ring_seconds,
      processed_call_id = EXCLUDED.processed_call_id, processed_started_at = EXCLUDED.processed_started_at,
      processed_at = EXCLUDED.processed_at, processed_how = EXCLUDED.processed_how,
      processed_by = EXCLUDED.processed_by $sql$;
  -- An answered call processes its client's earlier missed calls that nothing earlier processed
  -- (of several in the statement, the earliest after each missed call).
  EXECUTE changes || $sql$,
    answered AS (
      SELECT c.tenant_id, CASE c.direction WHEN 1 THEN c.caller ELSE c.called END AS client,
             c.call_id, c.started_at, c.answered_at,
             CASE c.direction WHEN 1 THEN 'answered_again' ELSE 'called_back' END AS how,
             tel_processed_by(c.tenant_id, c.direction, c.answered_by, c.caller_account_id, c.caller) AS who
      FROM changes c
      WHERE c.sign = 1 AND c.disposition = 1
        AND ((c.direction = 1 AND c.caller <> '') OR (c.direction = 2 AND c.called <> ''))),
    first_after AS (
      SELECT DISTINCT ON (m.tenant_id, m.call_id) m.tenant_id, m.call_id, a.call_id AS by_call,
             a.started_at, a.answered_at, a.how, a.who
      FROM answered a
      JOIN missed_calls m ON m.tenant_id = a.tenant_id AND m.caller = a.client AND m.started_at < a.started_at
      WHERE m.processed_started_at IS NULL OR m.processed_started_at > a.started_at
      ORDER BY m.tenant_id, m.call_id, a.started_at)
    UPDATE missed_calls m
       SET processed_call_id = f.by_call, processed_started_at = f.started_at,
           processed_at = f.answered_at, processed_how = f.how, processed_by = f.who
      FROM first_after f
     WHERE m.tenant_id = f.tenant_id AND m.call_id = f.call_id $sql$;
  RETURN NULL;
END
$$;
CREATE TRIGGER calls_roll_up_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_roll_up_calls();
CREATE TRIGGER calls_roll_up_update AFTER UPDATE ON calls
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_roll_up_calls();

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
