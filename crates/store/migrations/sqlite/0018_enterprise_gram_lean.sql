-- The name-gram index in one B-tree: `enterprise_gram` without a rowid, keyed by
-- (tenant, gram, enterprise), and without the second index by enterprise (a name's old grams
-- are removed by key, from the old name). A search reads one gram's range in key order; a
-- bulk load writes one tree instead of three.

CREATE TABLE enterprise_gram_lean (
    tenant_id      TEXT NOT NULL,
    gram           TEXT NOT NULL,
    enterprise_id  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, gram, enterprise_id)
) WITHOUT ROWID;
INSERT INTO enterprise_gram_lean (tenant_id, gram, enterprise_id)
    SELECT tenant_id, gram, enterprise_id FROM enterprise_gram;
DROP TABLE enterprise_gram;
ALTER TABLE enterprise_gram_lean RENAME TO enterprise_gram;
