-- +goose Up
-- What lets a text's acceptance be recorded by one statement committing
-- alone (issue 17), with its case, events and outbox rows, instead of a
-- transaction of four round trips (store.Tx.AcceptMessageAsRead).
--
-- ringback_receipt_waits takes the text SID's lock (store.LockMessageSID)
-- and then looks for an early receipt of that SID. A function's own
-- query sees what committed before it ran, not only what the calling
-- statement saw when it began: a receipt kept while the statement waited
-- for the lock is found.
-- +goose StatementBegin
CREATE FUNCTION ringback_receipt_waits(lock_class integer, text_sid text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(text_sid));
    RETURN EXISTS (SELECT 1 FROM early_receipts WHERE sid = text_sid);
END
$$;
-- +goose StatementEnd

-- ringback_expect fails the statement it is in, with SQLSTATE RBX01
-- (store.ErrChangedMeanwhile), unless holds: a write made on what was read
-- before found its row changed, so nothing the statement did stays.
-- +goose StatementBegin
CREATE FUNCTION ringback_expect(holds boolean, what text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF holds IS NOT TRUE THEN
        RAISE EXCEPTION 'ringback: % changed meanwhile', what USING ERRCODE = 'RBX01';
    END IF;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ringback_expect(boolean, text);
DROP FUNCTION ringback_receipt_waits(integer, text);
