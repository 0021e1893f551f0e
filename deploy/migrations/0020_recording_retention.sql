-- How long a tenant's call recordings are kept, in days; cdr-ingest deletes older ones.
ALTER TABLE tenants ADD COLUMN recording_retention_days integer NOT NULL DEFAULT 90
  CHECK (recording_retention_days BETWEEN 1 AND 3650);

-- The recordings still kept, by when their call ended: what the retention sweep reads.
CREATE INDEX calls_kept_recordings ON calls (ended_at)
  WHERE recording IS NOT NULL AND NOT (recording ? 'expired_at');

-- The sweep looks across tenants, which row-level security would hide from it: this narrow,
-- read-only function is its only way in (the definer, tel_owner, reads calls through its own
-- policy, as it reads tenants through definer_lookup).
CREATE POLICY definer_lookup ON calls FOR SELECT TO tel_owner USING (true);

CREATE FUNCTION tel_recordings_past_retention(p_limit integer)
RETURNS TABLE (tenant_id uuid, call_id text, file text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.tenant_id, c.call_id, c.recording->>'file'
  FROM calls c JOIN tenants t ON t.id = c.tenant_id
  WHERE c.recording IS NOT NULL AND NOT (c.recording ? 'expired_at')
    AND c.ended_at < now() - make_interval(days => t.recording_retention_days)
  ORDER BY c.ended_at
  LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION tel_recordings_past_retention(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_recordings_past_retention(integer) TO tel_app;
