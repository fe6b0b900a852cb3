-- Files that came with a progress report (or a milestone, or a completion request) are tied to
-- that report; files uploaded on their own have none.
ALTER TABLE attachment ADD COLUMN report_id TEXT;
