-- Queue webhooks (queue.caller_joined, queue.caller_abandoned). integrations keeps, per call, the
-- queue its caller waits in (from the queue's route steps: joined sets it; answered and overflow
-- clear it), so that the call's end tells whether the caller hung up waiting.
ALTER TABLE webhook_calls ADD COLUMN queue_waiting text NOT NULL DEFAULT '';

CREATE FUNCTION tel_note_webhook_call_queue(tenant uuid, call text, queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions) THEN
    RETURN;  -- a tenant without subscriptions keeps no webhook history
  END IF;
  INSERT INTO webhook_calls AS c (call_id, tenant_id, queue_waiting) VALUES (call, tenant, queue)
  ON CONFLICT (call_id) DO UPDATE SET queue_waiting = EXCLUDED.queue_waiting;
END
$$;

-- As in 0015, and queue.caller_abandoned only for a call whose caller was still waiting in a queue.
CREATE OR REPLACE FUNCTION tel_add_webhook_call_event(tenant uuid, call text, source text, event_type text,
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
  IF event_type = 'queue.caller_abandoned' AND context.queue_waiting = '' THEN
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

GRANT EXECUTE ON FUNCTION tel_note_webhook_call_queue(uuid, text, text) TO tel_app;
