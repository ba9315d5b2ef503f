-- Venue stop orders: each leg counts the stop orders sent for it (0 for legs written before
-- this column existed) and keeps the latest one's trigger price; an order row keeps its stop
-- trigger (NULL for other orders).
ALTER TABLE legs ADD COLUMN stop_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE legs ADD COLUMN stop_price NUMERIC;
ALTER TABLE orders ADD COLUMN stop_price NUMERIC;
ALTER TABLE orders ADD COLUMN stop_trigger TEXT;
