-- Which of a batch's tenants have webhook subscriptions: integrations asks once per batch of call
-- events and skips the events of every other tenant, instead of asking each event's tenant in its
-- own savepoint (five round trips an event; the SQL functions of 0015 answer "none" the same way).
-- Across tenants, so a narrow definer function, like the delivery functions.
CREATE FUNCTION tel_tenants_with_webhooks(tenants uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT tenant_id FROM webhook_subscriptions WHERE tenant_id = ANY(tenants)
$$;

REVOKE ALL ON FUNCTION tel_tenants_with_webhooks(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tel_tenants_with_webhooks(uuid[]) TO tel_app;
