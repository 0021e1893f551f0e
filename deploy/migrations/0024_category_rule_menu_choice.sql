-- Category rules by IVR choice: a rule may ask that the caller pressed `menu_key` in the voice menu
-- node `menu_node` (routing records it in the call's route as {node, type: "menu", outcome:
-- "key <keys>"}, see 0017). Both or neither; '' matches any call as before.
ALTER TABLE category_rules
  ADD COLUMN menu_node text NOT NULL DEFAULT '' CHECK (menu_node ~ '^[A-Za-z0-9_-]{0,64}$'),
  ADD COLUMN menu_key text NOT NULL DEFAULT '' CHECK (menu_key ~ '^[0-9*#]{0,8}$'),
  ADD CONSTRAINT category_rules_menu_check CHECK ((menu_node = '') = (menu_key = ''));

-- As in 0011, plus the menu choice: the route contains the step (jsonb containment on an array
-- matches an element holding those pairs).
CREATE OR REPLACE FUNCTION tel_categorize_call() RETURNS trigger
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
     AND (r.menu_node = '' OR NEW.route @> jsonb_build_array(jsonb_build_object(
            'node', r.menu_node, 'type', 'menu', 'outcome', 'key ' || r.menu_key)))
   ORDER BY r.position, r.created_at
   LIMIT 1;
  IF NEW.category_id IS NOT NULL THEN
    NEW.category_set_by := 'rule';
  END IF;
  RETURN NEW;
END
$$;
