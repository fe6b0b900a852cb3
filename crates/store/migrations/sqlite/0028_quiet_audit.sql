-- How many of a chain's entries were appended by quiet writes (the rating writer's
-- batches): the kept reads' stamp is the sum of seq - quiet, so ratings do not drop them.
ALTER TABLE audit_chain ADD COLUMN quiet BIGINT NOT NULL DEFAULT 0;
