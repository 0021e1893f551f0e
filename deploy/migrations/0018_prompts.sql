-- Voice prompts (routing): the catalog of each tenant's prompts. The audio itself is a file that
-- media-relay plays, <prompts dir>/<tenant_id>/<name>.wav (8 kHz mono 16-bit PCM); a row exists
-- for every file the routing service wrote, and its sha256 is the file's, so that a reader can tell
-- the file it holds is the one the catalog describes. The dial plan asks this table whether a
-- prompt it names exists.
CREATE TABLE prompts (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  source       text NOT NULL CHECK (source IN ('text', 'audio')),
  text         text,
  voice        text,
  duration_ms  bigint NOT NULL CHECK (duration_ms >= 0 AND duration_ms <= 600000),
  bytes        bigint NOT NULL CHECK (bytes > 0),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name),
  CHECK ((source = 'text') = (text IS NOT NULL AND voice IS NOT NULL))
);
ALTER TABLE prompts ENABLE ROW LEVEL SECURITY;
ALTER TABLE prompts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON prompts
  USING (tenant_id = tel_current_tenant()) WITH CHECK (tenant_id = tel_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON prompts TO tel_app;
