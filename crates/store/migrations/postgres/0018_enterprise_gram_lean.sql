-- The name-gram index without its second index by enterprise: a name's old grams are removed
-- by key, from the old name; a search reads one gram's range of the primary key in order.

DROP INDEX enterprise_gram_enterprise;
