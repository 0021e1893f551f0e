-- Segmentation (analytics): tenant-defined categories of calls, each with a value (what a call of
-- that kind is worth to the business: spam 0, a coat sold 250), set on a call by hand through the
-- API or by the tenant's rules when the call's record is complete.

CREATE TABLE call_categories (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  value       numeric(12, 2) NOT NULL DEFAULT 0 CHECK (value >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

-- Rules, tried in position order; the first whose every given condition holds sets the category.
CREATE TABLE category_rules (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  category_id   uuid NOT NULL REFERENCES call_categories(id) ON DELETE CASCADE,
  position      integer NOT NULL,
  direction     smallint NOT NULL DEFAULT 0,      -- 0: any
  number        text NOT NULL DEFAULT '',         -- the tenant's number called; '': any
  utm_source    text NOT NULL DEFAULT '',         -- the tracked source; '': any
  answered      boolean,                          -- NULL: either
  min_talk_seconds integer,
  max_talk_seconds integer,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX category_rules_order ON category_rules (tenant_id, position, created_at);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['call_categories', 'category_rules'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = tel_current_tenant()) '
                   'WITH CHECK (tenant_id = tel_current_tenant())', t);
  END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON call_categories, category_rules TO tel_app;

-- No foreign key from calls (cdr-ingest accepts records in any order, see 0002); a deleted
-- category leaves its calls uncategorized through the reports' join.
ALTER TABLE calls
  ADD COLUMN category_id uuid,
  ADD COLUMN category_set_by text NOT NULL DEFAULT '' CHECK (category_set_by IN ('', 'rule', 'manual'));

-- When a record becomes complete, the first matching rule categorizes it, unless someone already
-- did by hand. Runs after the attribution trigger (names order triggers), so rules can use the
-- source. Rules changed later apply to later calls.
CREATE FUNCTION tel_categorize_call() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT NEW.complete OR NEW.category_set_by <> '' OR (TG_OP = 'UPDATE' AND OLD.complete) THEN
    RETURN NEW;
  END IF;
  SELECT r.category_id INTO NEW.category_id
    FROM category_rules r
   WHERE r.tenant_id = NEW.tenant_id
     AND (r.direction = 0 OR r.direction = NEW.direction)
     AND (r.number = '' OR r.number = NEW.called)
     AND (r.utm_source = '' OR r.utm_source = NEW.utm_source)
     AND (r.answered IS NULL OR r.answered = (NEW.disposition = 1))
     AND (r.min_talk_seconds IS NULL OR NEW.talk_seconds >= r.min_talk_seconds)
     AND (r.max_talk_seconds IS NULL OR NEW.talk_seconds <= r.max_talk_seconds)
   ORDER BY r.position, r.created_at
   LIMIT 1;
  IF NEW.category_id IS NOT NULL THEN
    NEW.category_set_by := 'rule';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER calls_categorize BEFORE INSERT OR UPDATE OF complete ON calls
  FOR EACH ROW EXECUTE FUNCTION tel_categorize_call();
