-- Webhooks (integrations service): subscriptions, the events they are sent, one delivery per event
-- and subscription, and every attempt. Events are written once (a Kafka replay changes nothing),
-- deliveries are claimed with a lease (a crashed instance's deliveries go out again, same event id)
-- and, per call and subscription, go out in sequence order.

CREATE TABLE webhook_subscriptions (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url                         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  event_types                 text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 32),
  numbers                     text[] NOT NULL DEFAULT '{}',
  extensions                  text[] NOT NULL DEFAULT '{}',
  description                 text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
  -- Signing keys: the service signs with both while a rotation's overlap lasts.
  secret                      text NOT NULL,
  previous_secret             text,
  previous_secret_expires_at  timestamptz,
  enabled                     boolean NOT NULL DEFAULT true,
  disabled_reason             text NOT NULL DEFAULT '',
  failing_since               timestamptz,
  created_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id);

-- What filters and sequences need to know of a call: its numbers and the extensions involved so
-- far, its legs (for call.ringing / call.answered), and the last webhook sequence given out.
CREATE TABLE webhook_calls (
  call_id        text PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  direction      text NOT NULL DEFAULT '',
  numbers        text[] NOT NULL DEFAULT '{}',
  extensions     text[] NOT NULL DEFAULT '{}',
  legs           jsonb NOT NULL DEFAULT '{}',
  last_sequence  bigint NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_calls_created ON webhook_calls (created_at);

CREATE TABLE webhook_events (
  id               uuid PRIMARY KEY,  -- the payload's id: the same on every attempt and replay
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  type             text NOT NULL,
  call_id          text,              -- null for events not about a call
  sequence         bigint NOT NULL DEFAULT 0,  -- per call, from 1
  source_event_id  text,              -- the call event it came from
  created_at       timestamptz NOT NULL,
  -- Null until known: call.ended and call.missed carry the call record, read once it is complete.
  data             jsonb,
  UNIQUE (source_event_id, type)
);
CREATE INDEX webhook_events_tenant_created ON webhook_events (tenant_id, created_at);
CREATE INDEX webhook_events_unresolved ON webhook_events (created_at) WHERE data IS NULL;

CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  event_id         uuid NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
  call_id          text,
  sequence         bigint NOT NULL DEFAULT 0,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'given_up')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  leased_until     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_call_order ON webhook_deliveries (subscription_id, call_id, sequence)
  WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
  id                bigserial PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  subscription_id   uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  delivery_id       bigint NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  event_id          uuid NOT NULL,
  attempt           integer NOT NULL,
  attempted_at      timestamptz NOT NULL,
  status_code       integer NOT NULL DEFAULT 0,
  latency_ms        integer NOT NULL DEFAULT 0,
  error             text NOT NULL DEFAULT '',
  response_excerpt  text NOT NULL DEFAULT '',
  outcome           text NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'given_up', 'superseded')),
  next_attempt_at   timestamptz
);
CREATE INDEX webhook_attempts_log ON webhook_attempts (subscription_id, id DESC);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook_subscriptions', 'webhook_calls', 'webhook_events',
                           'webhook_deliveries', 'webhook_attempts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = tel_current_tenant()) '
                   'WITH CHECK (tenant_id = tel_current_tenant())', t);
    -- The delivery workers claim, finish and prune across tenants through the functions below.
    EXECUTE format('CREATE POLICY definer_delivery ON %I TO tel_owner USING (true) WITH CHECK (true)', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO tel_app', t);
  END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE webhook_deliveries_id_seq, webhook_attempts_id_seq TO tel_app;

-- Queues one delivery of the event to every enabled subscription of its tenant that takes its
-- type and whose filters match the call; returns how many. Runs in the tenant's transaction.
CREATE FUNCTION tel_fan_out_webhook_event(event uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE queued integer;
BEGIN
  INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, call_id, sequence)
  SELECT e.tenant_id, s.id, e.id, e.call_id, e.sequence
    FROM webhook_events e
    JOIN webhook_subscriptions s ON s.tenant_id = e.tenant_id AND s.enabled
    LEFT JOIN webhook_calls c ON c.call_id = e.call_id
   WHERE e.id = event AND e.type = ANY (s.event_types)
     -- Number and extension filters are about calls: a tenant event (call_id null) passes them.
     AND (e.call_id IS NULL OR cardinality(s.numbers) = 0 OR s.numbers && coalesce(c.numbers, '{}'))
     AND (e.call_id IS NULL OR cardinality(s.extensions) = 0 OR s.extensions && coalesce(c.extensions, '{}'));
  GET DIAGNOSTICS queued = ROW_COUNT;
  RETURN queued;
END
$$;

-- What a call event tells about its call: the direction and numbers (call started), a leg with its
-- extension (leg created). Runs in the tenant's transaction.
CREATE FUNCTION tel_note_webhook_call(tenant uuid, call text, call_direction text, call_numbers text[],
                                      call_extensions text[], leg_id text, leg jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions) THEN
    RETURN;  -- a tenant without subscriptions keeps no webhook history
  END IF;
  INSERT INTO webhook_calls AS c (call_id, tenant_id, direction, numbers, extensions, legs)
  VALUES (call, tenant, call_direction, call_numbers, call_extensions,
          CASE WHEN leg_id = '' THEN '{}'::jsonb ELSE jsonb_build_object(leg_id, leg) END)
  ON CONFLICT (call_id) DO UPDATE SET
    direction = CASE WHEN EXCLUDED.direction <> '' THEN EXCLUDED.direction ELSE c.direction END,
    numbers = ARRAY(SELECT DISTINCT unnest(c.numbers || EXCLUDED.numbers)),
    extensions = ARRAY(SELECT DISTINCT unnest(c.extensions || EXCLUDED.extensions)),
    legs = c.legs || EXCLUDED.legs;
END
$$;

-- Records a call's event once (its id derived from the call event's id and the type, so a Kafka
-- replay finds it and changes nothing) for a tenant with subscriptions, gives it the call's next sequence, and fans it out. An
-- event about a leg (leg_id not empty) carries the leg as the call's context knows it; call.missed
-- is only for inbound calls. Returns the deliveries queued, or -1 for an event not recorded (seen
-- before, or not applicable). Runs in the tenant's transaction.
CREATE FUNCTION tel_add_webhook_call_event(tenant uuid, call text, source text, event_type text,
                                           created timestamptz, payload jsonb, leg_id text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  event uuid := md5(source || ':' || event_type)::uuid;
  context webhook_calls;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions) OR EXISTS (SELECT 1 FROM webhook_events WHERE id = event) THEN
    RETURN -1;
  END IF;
  INSERT INTO webhook_calls (call_id, tenant_id) VALUES (call, tenant) ON CONFLICT DO NOTHING;
  SELECT * INTO context FROM webhook_calls WHERE call_id = call FOR UPDATE;
  IF event_type = 'call.missed' AND context.direction <> 'inbound' THEN
    RETURN -1;
  END IF;
  UPDATE webhook_calls SET last_sequence = last_sequence + 1 WHERE call_id = call
    RETURNING * INTO context;
  IF leg_id <> '' AND payload IS NOT NULL THEN
    payload := payload || jsonb_build_object('leg', context.legs -> leg_id);
  END IF;
  INSERT INTO webhook_events (id, tenant_id, type, call_id, sequence, source_event_id, created_at, data)
    VALUES (event, tenant, event_type, call, context.last_sequence, source, created, payload);
  RETURN tel_fan_out_webhook_event(event);
END
$$;

-- A tenant-level event (webhook.ping to one subscription, webhook.disabled to those that take it).
CREATE FUNCTION tel_add_webhook_tenant_event(tenant uuid, event_type text, payload jsonb,
                                             only_subscription uuid) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE event uuid := gen_random_uuid();
BEGIN
  INSERT INTO webhook_events (id, tenant_id, type, created_at, data)
    VALUES (event, tenant, event_type, now(), payload);
  IF only_subscription IS NULL THEN
    PERFORM tel_fan_out_webhook_event(event);
  ELSE
    INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id)
      VALUES (tenant, only_subscription, event);
  END IF;
  RETURN event;
END
$$;

-- Events still waiting for their call record, oldest first, across tenants.
CREATE FUNCTION tel_unresolved_webhook_events(max_rows integer)
RETURNS TABLE (event_id uuid, tenant_id uuid, call_id text, type text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT id, tenant_id, call_id, type, created_at FROM webhook_events
   WHERE data IS NULL ORDER BY created_at LIMIT max_rows
$$;

-- Leases up to max_rows due deliveries across tenants, at most per_subscription in flight for
-- any one subscription (a slow endpoint cannot take every slot), never a delivery while an earlier
-- one of the same call and subscription is pending (per-call order), never one whose event still
-- waits for its data. A lease that runs out (a crashed instance) makes the delivery due again.
CREATE FUNCTION tel_claim_webhook_deliveries(max_rows integer, per_subscription integer, lease interval)
RETURNS TABLE (delivery_id bigint, leased_until timestamptz, tenant_id uuid, subscription_id uuid,
               url text, secret text, previous_secret text, event_id uuid, event_type text,
               call_id text, sequence bigint, created_at timestamptz, data jsonb, attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE lease_end timestamptz := clock_timestamp() + lease;
BEGIN
  RETURN QUERY
  WITH in_flight AS (
    SELECT d.subscription_id, count(*) AS leased FROM webhook_deliveries d
     WHERE d.state = 'pending' AND d.leased_until > now() GROUP BY d.subscription_id),
  due AS (
    SELECT d.id, row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.next_attempt_at, d.id)
             + coalesce(f.leased, 0) AS slot, d.next_attempt_at
      FROM webhook_deliveries d
      JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
      JOIN webhook_events e ON e.id = d.event_id AND e.data IS NOT NULL
      LEFT JOIN in_flight f ON f.subscription_id = d.subscription_id
     WHERE d.state = 'pending' AND d.next_attempt_at <= now()
       AND (d.leased_until IS NULL OR d.leased_until <= now())
       AND NOT EXISTS (
         SELECT 1 FROM webhook_deliveries earlier
          WHERE earlier.state = 'pending' AND earlier.subscription_id = d.subscription_id
            AND earlier.call_id = d.call_id
            AND (earlier.sequence, earlier.id) < (d.sequence, d.id))),
  picked AS (
    SELECT due.id FROM due WHERE due.slot <= per_subscription
     ORDER BY due.next_attempt_at, due.id LIMIT max_rows),
  leased AS (
    -- Re-checked under the row lock: another instance may have leased it meanwhile.
    UPDATE webhook_deliveries d SET leased_until = lease_end
      FROM picked WHERE d.id = picked.id AND d.state = 'pending'
       AND (d.leased_until IS NULL OR d.leased_until <= now())
    RETURNING d.*)
  SELECT l.id, l.leased_until, l.tenant_id, l.subscription_id, s.url, s.secret,
         CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END,
         e.id, e.type, e.call_id, e.sequence, e.created_at, e.data, l.attempts
    FROM leased l
    JOIN webhook_subscriptions s ON s.id = l.subscription_id
    JOIN webhook_events e ON e.id = l.event_id;
END
$$;

-- Disables the subscriptions (one, or all when `one_subscription` is null) whose every attempt has failed for
-- longer than disable_after, and tells each tenant with a webhook.disabled event to the
-- subscriptions that take it. Returns how many it disabled. Across tenants.
CREATE FUNCTION tel_disable_failing_webhooks(disable_after interval, one_subscription uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  sub webhook_subscriptions;
  disabled integer := 0;
BEGIN
  FOR sub IN
    UPDATE webhook_subscriptions SET enabled = false, disabled_reason = 'failing'
     WHERE enabled AND failing_since <= now() - disable_after AND (one_subscription IS NULL OR id = one_subscription)
    RETURNING *
  LOOP
    PERFORM tel_add_webhook_tenant_event(sub.tenant_id, 'webhook.disabled',
      jsonb_build_object('subscription_id', sub.id, 'url', sub.url,
                         'failing_since', to_char(sub.failing_since AT TIME ZONE 'UTC',
                                                  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                         'reason', 'failing'), NULL);
    disabled := disabled + 1;
  END LOOP;
  RETURN disabled;
END
$$;

-- Records one attempt and moves the delivery on: delivered, due again at next_attempt, or given up
-- (next_attempt null). A lease that is no longer ours (it ran out and another instance took the
-- delivery) only logs the attempt as superseded. A failure starts or continues the subscription's
-- failing period; once that is older than disable_after, the subscription is disabled (above).
-- Returns the outcome.
CREATE FUNCTION tel_finish_webhook_delivery(delivery bigint, lease timestamptz, attempted timestamptz,
                                            status integer, latency integer, failure text,
                                            excerpt text, delivered boolean,
                                            next_attempt timestamptz, disable_after interval)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  d webhook_deliveries;
  result text;
BEGIN
  SELECT * INTO d FROM webhook_deliveries WHERE id = delivery FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'superseded';  -- its subscription or tenant was deleted meanwhile
  END IF;
  IF d.state <> 'pending' OR d.leased_until IS DISTINCT FROM lease THEN
    result := 'superseded';
  ELSIF delivered THEN
    result := 'delivered';
  ELSIF next_attempt IS NULL THEN
    result := 'given_up';
  ELSE
    result := 'retrying';
  END IF;
  INSERT INTO webhook_attempts (tenant_id, subscription_id, delivery_id, event_id, attempt,
                                attempted_at, status_code, latency_ms, error, response_excerpt,
                                outcome, next_attempt_at)
    VALUES (d.tenant_id, d.subscription_id, d.id, d.event_id, d.attempts + 1, attempted, status,
            latency, failure, excerpt, result, CASE WHEN result = 'retrying' THEN next_attempt END);
  IF result = 'superseded' THEN
    RETURN result;
  END IF;
  UPDATE webhook_deliveries
     SET attempts = attempts + 1, leased_until = NULL,
         state = CASE result WHEN 'delivered' THEN 'delivered' WHEN 'given_up' THEN 'given_up'
                             ELSE 'pending' END,
         next_attempt_at = coalesce(next_attempt, next_attempt_at)
   WHERE id = d.id;
  IF delivered THEN
    UPDATE webhook_subscriptions SET failing_since = NULL
     WHERE id = d.subscription_id AND failing_since IS NOT NULL;
    RETURN result;
  END IF;
  UPDATE webhook_subscriptions SET failing_since = coalesce(failing_since, attempted)
   WHERE id = d.subscription_id;
  PERFORM tel_disable_failing_webhooks(disable_after, d.subscription_id);
  RETURN result;
END
$$;

-- Forgets what is older than the retention: attempts, finished deliveries, events nobody still
-- has to receive, call contexts. Returns the rows removed. Across tenants.
CREATE FUNCTION tel_prune_webhooks(retention interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  removed bigint := 0;
  n bigint;
  horizon timestamptz := now() - retention;
BEGIN
  DELETE FROM webhook_attempts WHERE attempted_at < horizon;
  GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
  DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < horizon;
  GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
  DELETE FROM webhook_events e WHERE e.created_at < horizon
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id);
  GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
  DELETE FROM webhook_calls WHERE created_at < horizon;
  GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
  RETURN removed;
END
$$;

REVOKE ALL ON FUNCTION tel_unresolved_webhook_events(integer),
  tel_disable_failing_webhooks(interval, uuid),
  tel_claim_webhook_deliveries(integer, integer, interval),
  tel_finish_webhook_delivery(bigint, timestamptz, timestamptz, integer, integer, text, text,
                              boolean, timestamptz, interval),
  tel_prune_webhooks(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_fan_out_webhook_event(uuid),
  tel_note_webhook_call(uuid, text, text, text[], text[], text, jsonb),
  tel_add_webhook_call_event(uuid, text, text, text, timestamptz, jsonb, text),
  tel_add_webhook_tenant_event(uuid, text, jsonb, uuid),
  tel_unresolved_webhook_events(integer),
  tel_disable_failing_webhooks(interval, uuid),
  tel_claim_webhook_deliveries(integer, integer, interval),
  tel_finish_webhook_delivery(bigint, timestamptz, timestamptz, integer, integer, text, text,
                              boolean, timestamptz, interval),
  tel_prune_webhooks(interval) TO tel_app;
