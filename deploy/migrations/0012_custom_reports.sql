-- Custom reports (analytics): call-log filters and chosen columns saved under a name, run for any
-- period. Values are checked by the service; directions and dispositions as stored in calls.
CREATE TABLE custom_reports (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  direction    smallint NOT NULL DEFAULT 0,
  disposition  smallint NOT NULL DEFAULT 0,
  numbers      text[] NOT NULL DEFAULT '{}',
  extensions   text[] NOT NULL DEFAULT '{}',
  sources      text[] NOT NULL DEFAULT '{}',
  category_id  uuid,
  columns      text[] NOT NULL CHECK (cardinality(columns) BETWEEN 1 AND 30),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
ALTER TABLE custom_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_reports
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON custom_reports TO tel_app;
