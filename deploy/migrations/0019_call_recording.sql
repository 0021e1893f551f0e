-- A recorded call's file, from its call.ended event: {file, duration_ms, bytes}, where file is
-- <tenant_id>/<call_id>.wav under the recordings directory (a stereo WAV, the caller on the left
-- channel). NULL for calls that were not recorded.
ALTER TABLE calls ADD COLUMN recording jsonb CHECK (recording IS NULL OR jsonb_typeof(recording) = 'object');
