-- What closing the open legs at the asks would have realised at each mark (NULL while a leg
-- had no ask, and for marks written before this column existed).
ALTER TABLE marks ADD COLUMN close_now_net NUMERIC;
