-- The registrar's lookup of a SIP account by (tenant SIP domain, username): cross-tenant by nature
-- (a REGISTER names a domain, not a tenant), so a narrow SECURITY DEFINER function, like the others.
CREATE POLICY definer_lookup ON sip_accounts FOR SELECT TO tel_owner USING (true);

CREATE FUNCTION tel_find_sip_account(p_domain text, p_username text)
RETURNS TABLE (tenant_id uuid, account_id uuid, extension text, ha1_md5 text, ha1_sha256 text,
               outbound_allowed boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.tenant_id, s.id, s.extension, s.ha1_md5, s.ha1_sha256, s.outbound_allowed
  FROM sip_accounts s JOIN tenants t ON t.id = s.tenant_id
  WHERE t.sip_domain = p_domain AND s.username = p_username
$$;
REVOKE ALL ON FUNCTION tel_find_sip_account(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_find_sip_account(text, text) TO tel_app;
