-- One index instead of two on the hottest table: the key (tenant, call, event) both de-duplicates
-- events (an event id belongs to one call) and serves the per-call lookup of cdr-ingest.
ALTER TABLE call_events DROP CONSTRAINT call_events_pkey;
ALTER TABLE call_events ADD PRIMARY KEY (tenant_id, call_id, event_id);
DROP INDEX call_events_by_call;
