-- 0004_event_interest: who wants live events (docs/live-events.md). Append-only like the others.
--
-- An API process with SSE subscribers keeps a row here, renewed while it has any; every process
-- publishes job, schedule and queue changes only while some row is current, so an installation
-- nobody is watching pays nothing for live events.
CREATE TABLE jobplane.event_interest (
  hub_id  text PRIMARY KEY CHECK (char_length(hub_id) BETWEEN 1 AND 64),
  until   timestamptz NOT NULL
);
