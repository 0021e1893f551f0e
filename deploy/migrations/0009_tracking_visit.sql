-- A tracking visit in one statement: the public snippet calls it on every page view, so it is the
-- busiest write of call tracking. One round trip does what the analytics service did in seven:
-- find the site by its public key (the one cross-tenant step), then, as that tenant (row-level
-- security applies from there on), renew the session's hold or give it the pool number free
-- longest (under a row lock: two sessions never hold one number), and record the hold.
--
-- Visits commit without waiting for the WAL flush (synchronous_commit off for this transaction):
-- a crash of Postgres may lose the last fraction of a second of visits. Their visitors keep the
-- number they were shown, and a call to it in that window may be attributed to the next session
-- given the number, or to none. Every other write keeps full durability.
CREATE FUNCTION tel_tracking_visit(p_site_key text, p_session_id uuid, p_utm_source text,
                                   p_utm_medium text, p_utm_campaign text, p_utm_term text,
                                   p_utm_content text, p_referrer text, p_landing_page text,
                                   p_click_ids jsonb)
RETURNS TABLE (session_id uuid, number text, tracked boolean, hold_seconds integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  site record;
  v_session uuid := p_session_id;
  v_number text;
  v_since timestamptz;
  v_hold interval;
  v_new boolean;
BEGIN
  SELECT s.id, s.tenant_id, s.hold_seconds, s.default_number INTO site
    FROM tracking_sites s WHERE s.site_key = p_site_key;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM set_config('tel.tenant_id', site.tenant_id::text, true);
  PERFORM set_config('synchronous_commit', 'off', true);
  v_hold := make_interval(secs => site.hold_seconds);

  -- A session this site does not know (expired from storage, another site's, made up) starts
  -- a new one rather than failing the visitor's page.
  IF v_session IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM tracking_sessions s WHERE s.id = v_session AND s.site_id = site.id) THEN
    v_session := NULL;
  END IF;
  v_new := v_session IS NULL;

  IF v_session IS NOT NULL THEN
    -- Renew the current hold; one that has expired is not revived (the number may be another
    -- session's by now), the session gets a number afresh below.
    UPDATE tracking_numbers n SET held_until = now() + v_hold
     WHERE n.site_id = site.id AND n.held_by = v_session AND n.held_until > now()
    RETURNING n.e164, n.held_since INTO v_number, v_since;
    IF FOUND THEN
      UPDATE tracking_holds h SET held_until = now() + v_hold
       WHERE h.tenant_id = site.tenant_id AND h.e164 = v_number AND h.held_from = v_since;
      UPDATE tracking_sessions s SET last_seen_at = now() WHERE s.id = v_session;
      RETURN QUERY SELECT v_session, v_number, true, site.hold_seconds;
      RETURN;
    END IF;
  END IF;

  WITH pick AS (
    SELECT n.e164 FROM tracking_numbers n
     WHERE n.site_id = site.id AND n.kind = 'pool' AND n.held_until <= now()
     ORDER BY n.held_until LIMIT 1 FOR UPDATE SKIP LOCKED)
  UPDATE tracking_numbers n
     SET held_by = coalesce(v_session, gen_random_uuid()), held_since = now(), held_until = now() + v_hold
    FROM pick WHERE n.e164 = pick.e164
  RETURNING n.e164, n.held_by INTO v_number, v_session;
  IF v_number IS NULL THEN
    v_number := '';
    v_session := coalesce(v_session, gen_random_uuid());
  END IF;

  IF NOT v_new THEN
    UPDATE tracking_sessions s SET number = v_number, last_seen_at = now() WHERE s.id = v_session;
  ELSE
    INSERT INTO tracking_sessions (id, tenant_id, site_id, utm_source, utm_medium, utm_campaign,
                                   utm_term, utm_content, referrer, landing_page, click_ids, number)
    VALUES (v_session, site.tenant_id, site.id, p_utm_source, p_utm_medium, p_utm_campaign,
            p_utm_term, p_utm_content, p_referrer, p_landing_page, p_click_ids, v_number);
  END IF;
  IF v_number <> '' THEN
    INSERT INTO tracking_holds (tenant_id, e164, held_from, held_until, session_id)
    VALUES (site.tenant_id, v_number, now(), now() + v_hold, v_session);
  END IF;
  RETURN QUERY SELECT v_session, CASE WHEN v_number = '' THEN site.default_number ELSE v_number END,
                      v_number <> '', site.hold_seconds;
END
$$;
REVOKE ALL ON FUNCTION tel_tracking_visit(text, uuid, text, text, text, text, text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_tracking_visit(text, uuid, text, text, text, text, text, text, text, jsonb) TO tel_app;

-- The visit function finds the site itself; the separate lookup is no longer used.
DROP FUNCTION tel_find_tracking_site(text);
