-- Voicemail messages are calls: a call that reached a voicemail node and left a message has the
-- box (from its route) and its recording (a mono WAV). voicemail_heard_at is set when someone marks
-- the message heard through the API; NULL: new.
ALTER TABLE calls ADD COLUMN voicemail_box text NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN voicemail_heard_at timestamptz;

-- The voicemail list: a tenant's messages, newest first, as the call log pages them.
CREATE INDEX calls_voicemails ON calls (tenant_id, started_at DESC, call_id DESC) WHERE voicemail_box <> '';
