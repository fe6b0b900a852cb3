-- A unit's queue over a million appeals: the lead unit's index carries the state, so the
-- open ones are counted and picked from the index without reading each row; the co-handling
-- index carries the appeal, so a unit's co-handled appeals are read from it alone.

DROP INDEX appeal_unit;
CREATE INDEX appeal_unit ON appeal (tenant_id, lead_unit_id, received_at, state);
DROP INDEX appeal_cohandler_unit;
CREATE INDEX appeal_cohandler_unit ON appeal_cohandler (tenant_id, unit_id, appeal_id);
