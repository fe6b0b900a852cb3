-- SMS to people without an account (an appeal's submitter when a unit replies): the row
-- carries the sealed phone itself and its text in full; `account_id` is empty for them.

ALTER TABLE notification ADD COLUMN to_enc TEXT;
