-- Per-tenant settings of the reports (analytics). A tenant without a row has the defaults.
CREATE TABLE report_settings (
  tenant_id                 uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  -- Target calls: a client's first answered call of a deal whose talk time lies strictly between
  -- these bounds; a deal lasts deal_window_days from its target call.
  target_min_talk_seconds   integer NOT NULL DEFAULT 15 CHECK (target_min_talk_seconds >= 0),
  target_max_talk_seconds   integer NOT NULL DEFAULT 300,
  deal_window_days          integer NOT NULL DEFAULT 30 CHECK (deal_window_days BETWEEN 1 AND 366),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CHECK (target_max_talk_seconds > target_min_talk_seconds)
);
ALTER TABLE report_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON report_settings
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON report_settings TO tel_app;
