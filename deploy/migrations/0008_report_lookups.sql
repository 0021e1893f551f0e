-- The missed-calls report looks, for each missed call, for the first later answered call with the
-- same client: an inbound call from the client's number (caller) or an outbound call to it
-- (called). With the start time in the index, each lookup is one step into the index instead of a
-- walk through every call of that number. The call log's number filter uses them the same way.
CREATE INDEX calls_by_caller_started ON calls (tenant_id, caller, started_at);
CREATE INDEX calls_by_called_started ON calls (tenant_id, called, started_at);
DROP INDEX calls_by_caller;
DROP INDEX calls_by_called;
