-- The per-phone limit is the QR page's (one rating per phone per target a day, SPEC
-- "Ratings"): only QR ratings with a phone are indexed by it. The systems' ratings, which
-- carry a phone each and come by the thousand, no longer write a random page of this index
-- each.
DROP INDEX rating_phone;
CREATE INDEX rating_phone ON rating (tenant_id, rater_phone_index, rated_at)
    WHERE rater_phone_index IS NOT NULL AND channel = 'qr';
