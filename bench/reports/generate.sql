-- One tenant's call history for the reports benchmark (psql, as the application role):
--   psql -v tenant=<uuid> -v calls=<n> -v days=<n> -v seed=<0..1> -f generate.sql
-- The tenant, its 10 numbers and 20 SIP accounts (101..120) must exist. Calls end today; 70%
-- inbound (75% answered), 25% outbound, 5% internal; most start in working hours; callers come
-- from 200,000 clients, so clients call again and are called back; a fifth of the inbound calls
-- carry a tracked source. Inbound and internal calls have the leg that rang an account.
\set ON_ERROR_STOP on
SELECT set_config('tel.tenant_id', :'tenant', false);
SELECT setseed(:seed);
CREATE TEMP TABLE generated_calls AS
WITH drawn AS MATERIALIZED (
  SELECT i, random() AS r_direction, random() AS r_disposition, random() AS r_ring, random() AS r_talk,
         floor(random() * 20)::int AS account, floor(random() * 20)::int AS other_account,
         floor(random() * 200000)::int AS client, floor(random() * 10)::int AS number,
         now()::date - :days + floor(random() * :days)::int AS day,
         CASE WHEN random() < 0.8 THEN 7 + floor(random() * 11) ELSE floor(random() * 24) END AS hour,
         random() * 3600 AS second, random() AS r_tracked, floor(random() * 3)::int AS source,
         floor(random() * 20)::int AS campaign, floor(random() * 200)::int AS keyword
  FROM generate_series(1, :calls) AS i),
shaped AS MATERIALIZED (
  SELECT d.*, 'bench-' || :'tenant' || '-' || i AS call_id,
         CASE WHEN r_direction < 0.70 THEN 1 WHEN r_direction < 0.95 THEN 2 ELSE 3 END AS direction,
         '+38050' || lpad(client::text, 7, '0') AS client_number,
         day::timestamptz + make_interval(hours => hour::int, secs => second) AS started_at,
         CASE WHEN r_direction >= 0.95 THEN other_account ELSE account END AS callee_account
  FROM drawn d),
calls_made AS MATERIALIZED (
  SELECT s.*,
         CASE WHEN direction = 1 THEN (CASE WHEN r_disposition < 0.75 THEN 1 WHEN r_disposition < 0.85 THEN 3
                                            WHEN r_disposition < 0.95 THEN 5 ELSE 2 END)
              ELSE (CASE WHEN r_disposition < 0.6 THEN 1 ELSE 3 END) END AS disposition
  FROM shaped s),
timed AS MATERIALIZED (
  SELECT c.*, CASE WHEN disposition = 1 THEN 1 + floor(r_ring * 30) ELSE floor(r_ring * 40) END::int AS ring_seconds,
         CASE WHEN disposition = 1 THEN 10 + floor(r_talk * 590) ELSE 0 END::int AS talk_seconds
  FROM calls_made c)
SELECT * FROM timed;
-- Legs before calls: a complete call's record is counted per SIP account from its legs
-- (0013_report_rollups.sql), as cdr-ingest writes them.
WITH accounts AS (
  SELECT array_agg(id::text ORDER BY extension) AS ids, array_agg(username ORDER BY extension) AS names
  FROM sip_accounts)
INSERT INTO call_legs (tenant_id, call_id, leg_id, position, target_kind, target, account_id, extension,
                       created_at, answered_at, ended_at, sip_status, end_reason)
SELECT :'tenant', t.call_id, t.call_id || '-l', 0, 1, (101 + t.callee_account)::text,
       accounts.ids[t.callee_account + 1], (101 + t.callee_account)::text, t.started_at,
       CASE WHEN t.disposition = 1 THEN t.started_at + make_interval(secs => t.ring_seconds) END,
       t.started_at + make_interval(secs => t.ring_seconds + t.talk_seconds),
       CASE WHEN t.disposition = 1 THEN 200 ELSE 480 END, CASE WHEN t.disposition = 1 THEN 'bye' ELSE 'no_answer' END
FROM generated_calls t, accounts
WHERE t.direction <> 2;
WITH accounts AS (
  SELECT array_agg(id::text ORDER BY extension) AS ids, array_agg(username ORDER BY extension) AS names
  FROM sip_accounts),
numbers AS (SELECT array_agg(e164 ORDER BY e164) AS list FROM numbers)
INSERT INTO calls (tenant_id, call_id, direction, caller, called, caller_account_id, started_at,
                   answered_at, ended_at, ring_seconds, talk_seconds, disposition, answered_leg_id,
                   answered_by, events, complete, attributed, utm_source, utm_medium, utm_campaign, utm_term)
SELECT :'tenant', t.call_id, t.direction,
       CASE t.direction WHEN 1 THEN t.client_number ELSE accounts.names[t.account + 1] END,
       CASE t.direction WHEN 1 THEN numbers.list[t.number + 1] WHEN 2 THEN t.client_number
                        ELSE (101 + t.other_account)::text END,
       CASE t.direction WHEN 1 THEN '' ELSE accounts.ids[t.account + 1] END,
       t.started_at,
       CASE WHEN t.disposition = 1 THEN t.started_at + make_interval(secs => t.ring_seconds) END,
       t.started_at + make_interval(secs => t.ring_seconds + t.talk_seconds),
       t.ring_seconds, t.talk_seconds, t.disposition,
       CASE WHEN t.disposition = 1 AND t.direction <> 2 THEN t.call_id || '-l' ELSE '' END,
       CASE WHEN t.disposition = 1 AND t.direction <> 2 THEN (101 + t.callee_account)::text ELSE '' END,
       7, true, t.direction = 1 AND t.r_tracked < 0.2,
       CASE WHEN t.direction = 1 AND t.r_tracked < 0.2 THEN (ARRAY['google', 'facebook', 'bing'])[t.source + 1] ELSE '' END,
       CASE WHEN t.direction = 1 AND t.r_tracked < 0.2 THEN 'cpc' ELSE '' END,
       CASE WHEN t.direction = 1 AND t.r_tracked < 0.2 THEN 'campaign-' || t.campaign ELSE '' END,
       CASE WHEN t.direction = 1 AND t.r_tracked < 0.2 THEN 'keyword-' || t.keyword ELSE '' END
FROM generated_calls t, accounts, numbers;
DROP TABLE generated_calls;
