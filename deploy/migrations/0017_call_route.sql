-- A call's way through the tenant's dial plan (schedule branches, scheme steps and how they failed,
-- the node that ended it), folded by cdr-ingest from the call's route_step events: a JSON array of
-- {node, type, outcome, detail, plan_version}, empty for calls routed without a plan.
ALTER TABLE calls ADD COLUMN route jsonb NOT NULL DEFAULT '[]'::jsonb
  CHECK (jsonb_typeof(route) = 'array');
