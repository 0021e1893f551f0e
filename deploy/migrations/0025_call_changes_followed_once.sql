-- What call records feed (report rollups, tracked calls, target calls: 0013, 0014) was kept by
-- three statement triggers, each running its statements as dynamic SQL on a CTE over the
-- transition tables, so every batch of records planned about ten statements again: some 3.5 ms of
-- Postgres CPU per call, the largest share of a call's cost (bench/RESULTS.md, run 14).
--
-- Now one statement trigger puts the batch's changes once into a temporary table (one dynamic
-- statement: the INSERT and UPDATE variants differ) and does all three jobs with static SQL on it,
-- which PL/pgSQL plans once per connection, in the order the three triggers ran (by name: target,
-- tracked, roll-up). The join from the changes to call_legs is a lateral lookup by key, whatever
-- the planner guesses about the changes' size. The temporary table's name carries its shape's
-- version: a connection that made an older shape before a migration keeps working, and a later
-- change of columns takes a new name.
DROP TRIGGER IF EXISTS calls_keep_target_insert ON calls;
DROP TRIGGER IF EXISTS calls_keep_target_update ON calls;
DROP TRIGGER IF EXISTS calls_keep_tracked_insert ON calls;
DROP TRIGGER IF EXISTS calls_keep_tracked_update ON calls;
DROP TRIGGER IF EXISTS calls_roll_up_insert ON calls;
DROP TRIGGER IF EXISTS calls_roll_up_update ON calls;
DROP FUNCTION IF EXISTS tel_keep_target_calls();
DROP FUNCTION IF EXISTS tel_keep_tracked_calls();
DROP FUNCTION IF EXISTS tel_roll_up_calls();

CREATE OR REPLACE FUNCTION tel_follow_call_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  client record;
BEGIN
  IF to_regclass('pg_temp.tel_call_changes_v1') IS NULL THEN
    CREATE TEMP TABLE tel_call_changes_v1 (
      sign integer, tenant_id uuid, call_id text, direction smallint, disposition smallint,
      caller text, called text, caller_account_id text, started_at timestamptz,
      answered_at timestamptz, ring_seconds integer, talk_seconds integer, answered_leg_id text,
      answered_by text, attributed boolean, utm_source text, utm_medium text, utm_campaign text,
      utm_term text, category_id uuid
    ) ON COMMIT DELETE ROWS;
  ELSE
    DELETE FROM pg_temp.tel_call_changes_v1;  -- an earlier statement of the same transaction
  END IF;
  EXECUTE 'INSERT INTO pg_temp.tel_call_changes_v1 SELECT sign, tenant_id, call_id, direction,'
       || ' disposition, caller, called, caller_account_id, started_at, answered_at, ring_seconds,'
       || ' talk_seconds, answered_leg_id, answered_by, attributed, utm_source, utm_medium,'
       || ' utm_campaign, utm_term, category_id FROM (' || tel_call_changes_sql(TG_OP) || ') changes';

  -- Target calls: each client with an answered inbound call among the changes is chained again.
  FOR client IN
      SELECT tenant_id, caller, min(started_at) AS first_change, max(started_at) AS last_change
      FROM pg_temp.tel_call_changes_v1 WHERE direction = 1 AND disposition = 1 AND caller <> ''
      GROUP BY tenant_id, caller LOOP
    PERFORM tel_rechain_target_calls(client.tenant_id, client.caller, client.first_change,
                                     client.last_change);
  END LOOP;

  -- Tracked calls: the attributed inbound calls, for the ads report.
  DELETE FROM tracked_calls t USING pg_temp.tel_call_changes_v1 c
   WHERE c.sign = -1 AND c.direction = 1 AND c.attributed
     AND t.tenant_id = c.tenant_id AND t.call_id = c.call_id;
  INSERT INTO tracked_calls (tenant_id, call_id, started_at, caller, number, source, medium,
                             campaign, term, answered, ring_seconds)
  SELECT tenant_id, call_id, started_at, caller, called, utm_source, utm_medium, utm_campaign,
         utm_term, disposition = 1, ring_seconds
  FROM pg_temp.tel_call_changes_v1 WHERE sign = 1 AND direction = 1 AND attributed
  ON CONFLICT (tenant_id, call_id) DO UPDATE SET
    started_at = EXCLUDED.started_at, caller = EXCLUDED.caller, number = EXCLUDED.number,
    source = EXCLUDED.source, medium = EXCLUDED.medium, campaign = EXCLUDED.campaign,
    term = EXCLUDED.term, answered = EXCLUDED.answered, ring_seconds = EXCLUDED.ring_seconds;

  -- Report rollups.

  INSERT INTO call_hour_totals (tenant_id, hour, direction, category_id, calls, answered,
                                answer_ring_seconds, talk_seconds)
  SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), direction, category_id, sum(sign),
         coalesce(sum(sign) FILTER (WHERE disposition = 1), 0),
         coalesce(sum(sign * ring_seconds) FILTER (WHERE disposition = 1), 0), sum(sign * talk_seconds)
  FROM pg_temp.tel_call_changes_v1 GROUP BY 1, 2, 3, 4;

  INSERT INTO inbound_hour_lines (tenant_id, hour, number, source, calls, answered, answer_ring_seconds)
  SELECT tenant_id, date_trunc('hour', started_at, 'UTC'), called,
         CASE WHEN attributed THEN utm_source END, sum(sign),
         coalesce(sum(sign) FILTER (WHERE disposition = 1), 0),
         coalesce(sum(sign * ring_seconds) FILTER (WHERE disposition = 1), 0)
  FROM pg_temp.tel_call_changes_v1 WHERE direction = 1 GROUP BY 1, 2, 3, 4;

  -- Per account: the calls that rang it, from their legs (cdr-ingest writes a batch's legs before
  -- its calls), and the external calls it placed.
  WITH offered AS (
    SELECT c.sign, c.tenant_id, c.started_at, c.disposition, c.ring_seconds, c.talk_seconds,
           l.account_id, l.extension, l.took
    FROM pg_temp.tel_call_changes_v1 c
    CROSS JOIN LATERAL (
      SELECT legs.account_id, max(legs.extension) AS extension,
             bool_or(legs.leg_id = c.answered_leg_id) AS took
      FROM call_legs legs
      WHERE legs.tenant_id = c.tenant_id AND legs.call_id = c.call_id AND legs.account_id <> ''
      GROUP BY legs.account_id) l
    WHERE c.direction IN (1, 3))
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
  FROM pg_temp.tel_call_changes_v1 WHERE direction = 2 AND caller_account_id <> '' GROUP BY 1, 2, 3;

  -- Missed calls: those that are no longer, then those that are (with what processed them).
  DELETE FROM missed_calls m USING pg_temp.tel_call_changes_v1 c
   WHERE c.sign = -1 AND c.direction = 1 AND c.disposition <> 1
     AND m.tenant_id = c.tenant_id AND m.call_id = c.call_id;
  INSERT INTO missed_calls (tenant_id, call_id, started_at, caller, number, source, disposition,
                            ring_seconds, processed_call_id, processed_started_at, processed_at,
                            processed_how, processed_by)
  SELECT c.tenant_id, c.call_id, c.started_at, c.caller, c.called,
         CASE WHEN c.attributed THEN c.utm_source END, c.disposition, c.ring_seconds,
         p.call_id, p.started_at, p.answered_at, p.how, p.who
  FROM pg_temp.tel_call_changes_v1 c
  LEFT JOIN LATERAL tel_first_processing(c.tenant_id, c.caller, c.started_at) p ON c.caller <> ''
  WHERE c.sign = 1 AND c.direction = 1 AND c.disposition <> 1
  ON CONFLICT (tenant_id, call_id) DO UPDATE SET
    started_at = EXCLUDED.started_at, caller = EXCLUDED.caller, number = EXCLUDED.number,
    source = EXCLUDED.source, disposition = EXCLUDED.disposition, ring_seconds = EXCLUDED.ring_seconds,
    processed_call_id = EXCLUDED.processed_call_id, processed_started_at = EXCLUDED.processed_started_at,
    processed_at = EXCLUDED.processed_at, processed_how = EXCLUDED.processed_how,
    processed_by = EXCLUDED.processed_by;
  -- An answered call processes its client's earlier missed calls that nothing earlier processed
  -- (of several in the statement, the earliest after each missed call).
  WITH answered AS (
    SELECT c.tenant_id, CASE c.direction WHEN 1 THEN c.caller ELSE c.called END AS client,
           c.call_id, c.started_at, c.answered_at,
           CASE c.direction WHEN 1 THEN 'answered_again' ELSE 'called_back' END AS how,
           tel_processed_by(c.tenant_id, c.direction, c.answered_by, c.caller_account_id, c.caller) AS who
    FROM pg_temp.tel_call_changes_v1 c
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
   WHERE m.tenant_id = f.tenant_id AND m.call_id = f.call_id;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS calls_follow_insert ON calls;
DROP TRIGGER IF EXISTS calls_follow_update ON calls;
CREATE TRIGGER calls_follow_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_follow_call_changes();
CREATE TRIGGER calls_follow_update AFTER UPDATE ON calls
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tel_follow_call_changes();
