-- +goose Up
-- What lets a missed call's intake commit in its one write statement,
-- without a transaction around a locking read (issue 17;
-- store.Tx.ReadCallReportAsRead, store.Tx.GuardTextBack).
--
-- ringback_caller_texted takes the caller's lock (store.LockCaller) and
-- then looks for a text-back to them, other than own, created after
-- since and not refused. A function's own query sees what committed
-- before it ran, not only what the calling statement saw when it began:
-- a text-back that another call's statement committed while this one
-- waited for the lock is found.
-- +goose StatementBegin
CREATE FUNCTION ringback_caller_texted(lock_class integer, caller text, since timestamptz, own bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(caller));
    RETURN EXISTS (SELECT 1 FROM messages WHERE caller_number = caller AND kind = 'textback' AND direction = 'out'
        AND status NOT IN ('failed', 'canceled') AND created_at > since AND id <> own);
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ringback_caller_texted(integer, text, timestamptz, bigint);
