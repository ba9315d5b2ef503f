-- Leg-wise exits: a leg closed alone while its session stays open keeps why (NULL for a leg
-- closed with its session, and for legs written before this column existed), and a leg whose
-- stop moved to its cost says so.
ALTER TABLE legs ADD COLUMN exit_reason TEXT;
ALTER TABLE legs ADD COLUMN stop_at_cost BOOLEAN NOT NULL DEFAULT FALSE;
