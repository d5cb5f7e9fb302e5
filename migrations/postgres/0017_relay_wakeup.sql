-- The relay is woken by its own process's commits and polls for the others'.
-- A NOTIFY per statement made PostgreSQL take one lock at the commit of every
-- transaction that inserted events, held through the commit's WAL flush:
-- commits of events went one flush at a time instead of sharing flushes.
DROP TRIGGER events_committed ON events;
DROP FUNCTION notify_events_committed();
