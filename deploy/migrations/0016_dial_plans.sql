-- Dial plans (routing): each tenant's plan as one JSON document, replaced whole on every save so a
-- save is atomic: a call reads one version from start to end. The routing service validates the
-- document (nodes, schedules, targets) before it writes it; the database keeps the version count.
CREATE TABLE dial_plans (
  tenant_id   uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  version     bigint NOT NULL CHECK (version >= 1),
  document    jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE dial_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE dial_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dial_plans
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON dial_plans TO tel_app;
