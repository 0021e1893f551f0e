-- Registration to carriers that want the PBX to register (SIP and GSM gateways, many SIP trunks):
-- sip-edge sends REGISTER for the carrier's username to the carrier's outbound URI and keeps the
-- binding fresh; the carrier then delivers calls to the registered contact.
--
-- Unlike a digest password that the platform checks (0006, kept as HA1 values), this one is a
-- password the platform must present, so it is kept encrypted (AES-256-GCM, with a key only the
-- accounts service holds): `registration_secret` is nonce || ciphertext || tag, empty when the
-- carrier registers nowhere.
--
-- `registration_contact` is the user part of the contact sip-edge registers (128 random bits): an
-- INVITE to it is the carrier delivering a call on this registration, so it must not be guessable.
--
-- The state columns are what the sip-edge instance keeping the registration last reported.
ALTER TABLE carriers
  ADD COLUMN registration_username text NOT NULL DEFAULT ''
    CHECK (registration_username ~ '^[A-Za-z0-9._+-]{0,64}$'),
  ADD COLUMN registration_domain text NOT NULL DEFAULT ''
    CHECK (length(registration_domain) <= 253),
  ADD COLUMN registration_secret bytea NOT NULL DEFAULT ''::bytea,
  ADD COLUMN registration_expires integer NOT NULL DEFAULT 300
    CHECK (registration_expires BETWEEN 60 AND 3600),
  ADD COLUMN registration_contact text NOT NULL DEFAULT ''
    CHECK (registration_contact ~ '^(r[0-9a-f]{32})?$'),
  ADD COLUMN registration_state text NOT NULL DEFAULT ''
    CHECK (registration_state IN ('', 'registering', 'registered', 'failed')),
  ADD COLUMN registration_reason text NOT NULL DEFAULT '' CHECK (length(registration_reason) <= 200),
  ADD COLUMN registration_until timestamptz,
  ADD COLUMN registration_reported_at timestamptz,
  ADD CONSTRAINT carriers_registration_check
    CHECK ((registration_username = '') = (length(registration_secret) = 0)
           AND (registration_username = '') = (registration_contact = '')),
  -- The registrar is the outbound URI: it cannot be removed while the carrier is registered to.
  ADD CONSTRAINT carriers_registration_registrar
    CHECK (registration_username = '' OR outbound_uri <> '');
CREATE UNIQUE INDEX carriers_registration_contact ON carriers (registration_contact)
  WHERE registration_contact <> '';

-- sip-edge keeps every tenant's registrations, so it reads them across tenants: a narrow definer
-- function (carriers already has its owner-only read policy, 0005).
CREATE FUNCTION tel_carrier_registrations()
RETURNS TABLE (tenant_id uuid, carrier_id uuid, outbound_uri text, username text, domain text,
               secret bytea, expires integer, contact text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.tenant_id, c.id, c.outbound_uri, c.registration_username, c.registration_domain,
         c.registration_secret, c.registration_expires, c.registration_contact
  FROM carriers c WHERE c.registration_username <> '' AND c.outbound_uri <> ''
  ORDER BY c.created_at, c.id
$$;
REVOKE ALL ON FUNCTION tel_carrier_registrations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_carrier_registrations() TO tel_app;
