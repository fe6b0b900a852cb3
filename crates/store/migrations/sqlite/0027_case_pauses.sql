-- A case's pauses (补正: waiting for the applicant's materials) as a JSON list of
-- {"from", "to"}; its working_days are net of them.
ALTER TABLE service_case ADD COLUMN pauses TEXT NOT NULL DEFAULT '[]';
