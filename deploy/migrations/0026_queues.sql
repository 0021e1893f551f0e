-- Call queues (the queue service): each queue's settings as one JSON document (the protobuf JSON
-- of tel.queue.v1.QueueSettings, checked by the service before it writes), and each agent's own
-- state (available, paused with a reason, logged out): what the live state in Redis is rebuilt
-- from after Redis lost it. Ringing, on-call and wrap-up live in Redis only: they follow calls.
CREATE TABLE queues (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  settings    jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
ALTER TABLE queues ENABLE ROW LEVEL SECURITY;
ALTER TABLE queues FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON queues
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON queues TO tel_app;

-- An agent is one of the tenant's own SIP accounts: the key below lets the database say so.
ALTER TABLE sip_accounts ADD CONSTRAINT sip_accounts_tenant_id_id_key UNIQUE (tenant_id, id);

CREATE TABLE queue_agents (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  account_id  uuid NOT NULL,
  state       text NOT NULL CHECK (state IN ('available', 'paused', 'logged_out')),
  reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 100),
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, account_id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES sip_accounts(tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE queue_agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON queue_agents
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON queue_agents TO tel_app;
