-- +goose Up
-- When a customer was erased (R4): their data key is destroyed, every sealed value and
-- note deleted, and the blind indexes cleared; the row keeps only the number, kind and
-- dates, so records that cite the customer id (bookkeeping, requests) stay consistent.
ALTER TABLE customers ADD COLUMN erased_at BIGINT;

-- +goose Down
ALTER TABLE customers DROP COLUMN erased_at;
