-- A dashboard user may be the person at one of the tenant's SIP accounts (a queue agent's phone):
-- such a user sets that agent's own queue state (available, paused, logged out) itself, even with
-- the role agent. One user per SIP account; deleting the account unlinks the user.
ALTER TABLE users ADD COLUMN sip_account_id uuid;
ALTER TABLE users ADD CONSTRAINT users_sip_account FOREIGN KEY (tenant_id, sip_account_id)
  REFERENCES sip_accounts (tenant_id, id) ON DELETE SET NULL (sip_account_id);
CREATE UNIQUE INDEX users_sip_account_once ON users (sip_account_id) WHERE sip_account_id IS NOT NULL;
