-- A staff member's ratings (the staff page of 好差评), newest first.
CREATE INDEX rating_staff ON rating (tenant_id, staff_id, rated_at) WHERE staff_id IS NOT NULL;
