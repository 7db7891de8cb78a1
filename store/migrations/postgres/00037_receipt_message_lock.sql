-- +goose Up
-- A receipt's first read (store.Tx.LockedMessageBySID): its text,
-- locked, under the SID's lock (store.LockMessageSID), in one statement
-- instead of two. The lock is taken first and the query runs after it,
-- inside the function, so it sees a SID recorded by a transaction that
-- held the lock while this one waited (a statement's own query would
-- read from before the wait and miss it).
-- +goose StatementBegin
CREATE FUNCTION ringback_message_locked(lock_class integer, text_sid text) RETURNS SETOF messages
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(text_sid));
    RETURN QUERY SELECT * FROM messages WHERE sid = text_sid FOR UPDATE;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ringback_message_locked(integer, text);
