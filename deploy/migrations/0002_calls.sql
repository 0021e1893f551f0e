-- Call events and call records (cdr-ingest). Same isolation as everything else: tenant_id on every
-- row, row-level security forced, the tenant taken from tel.tenant_id. cdr-ingest writes each
-- tenant's rows with that tenant set, so one misattributed event can never land in another tenant.
--
-- No foreign key to tenants: events must be accepted in any order and a poison event must never
-- block a batch. Deleting a tenant deletes its calls through the trigger below.

CREATE TABLE call_events (
  tenant_id    uuid NOT NULL,
  event_id     text NOT NULL,
  call_id      text NOT NULL,
  sequence     bigint NOT NULL,
  type         text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  payload      bytea NOT NULL,  -- the serialized tel.calls.v1.CallEvent
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX call_events_by_call ON call_events (tenant_id, call_id);

CREATE TABLE calls (
  tenant_id          uuid NOT NULL,
  call_id            text NOT NULL,
  direction          smallint NOT NULL DEFAULT 0,
  caller             text NOT NULL DEFAULT '',
  called             text NOT NULL DEFAULT '',
  number_id          text NOT NULL DEFAULT '',
  caller_account_id  text NOT NULL DEFAULT '',
  started_at         timestamptz NOT NULL,
  answered_at        timestamptz,
  ended_at           timestamptz,
  ring_seconds       integer NOT NULL DEFAULT 0,
  talk_seconds       integer NOT NULL DEFAULT 0,
  disposition        smallint NOT NULL DEFAULT 0,
  hangup_side        smallint NOT NULL DEFAULT 0,
  sip_status         integer NOT NULL DEFAULT 0,
  cause              text NOT NULL DEFAULT '',
  answered_leg_id    text NOT NULL DEFAULT '',
  answered_by        text NOT NULL DEFAULT '',
  caller_packets_in  bigint NOT NULL DEFAULT 0,
  caller_packets_out bigint NOT NULL DEFAULT 0,
  caller_bytes_in    bigint NOT NULL DEFAULT 0,
  caller_bytes_out   bigint NOT NULL DEFAULT 0,
  events             integer NOT NULL DEFAULT 0,
  complete           boolean NOT NULL DEFAULT false,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX calls_by_start ON calls (tenant_id, started_at DESC, call_id DESC);
CREATE INDEX calls_by_caller ON calls (tenant_id, caller);
CREATE INDEX calls_by_called ON calls (tenant_id, called);

CREATE TABLE call_legs (
  tenant_id    uuid NOT NULL,
  call_id      text NOT NULL,
  leg_id       text NOT NULL,
  position     integer NOT NULL,
  target_kind  smallint NOT NULL DEFAULT 0,
  target       text NOT NULL DEFAULT '',
  account_id   text NOT NULL DEFAULT '',
  extension    text NOT NULL DEFAULT '',
  created_at   timestamptz,
  ringing_at   timestamptz,
  answered_at  timestamptz,
  ended_at     timestamptz,
  sip_status   integer NOT NULL DEFAULT 0,
  end_reason   text NOT NULL DEFAULT '',
  packets_in   bigint NOT NULL DEFAULT 0,
  packets_out  bigint NOT NULL DEFAULT 0,
  bytes_in     bigint NOT NULL DEFAULT 0,
  bytes_out    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, call_id, leg_id)
);
CREATE INDEX call_legs_by_extension ON call_legs (tenant_id, extension);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['call_events', 'calls', 'call_legs'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = tel_current_tenant()) '
                   'WITH CHECK (tenant_id = tel_current_tenant())', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON call_events, calls, call_legs TO tel_app;

-- A deleted tenant takes its call history with it. Runs as the owner (SECURITY DEFINER) with the
-- deleted tenant's id set, so the policies admit exactly its rows.
CREATE FUNCTION tel_delete_tenant_calls() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM set_config('tel.tenant_id', OLD.id::text, true);
  DELETE FROM call_legs WHERE tenant_id = OLD.id;
  DELETE FROM calls WHERE tenant_id = OLD.id;
  DELETE FROM call_events WHERE tenant_id = OLD.id;
  RETURN OLD;
END
$$;
CREATE TRIGGER tenants_delete_calls AFTER DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION tel_delete_tenant_calls();
