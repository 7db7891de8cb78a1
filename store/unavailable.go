package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/lib/pq"
)

// IsUnavailable reports whether err says the database could not be reached
// or went away mid-request (refused, reset, restarting, shutting down, gone,
// or too slow to answer), as opposed to an answer it gave: a constraint, a
// bad query, a missing row. Work that failed this way can be tried again
// later unchanged.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch {
		case pe.Code.Class() == "08": // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, starting up
			return true
		case pe.Code == "53300": // too many connections
			return true
		case pe.Code == "3D000": // the database is gone (dropped, renamed, being restored)
			return true
		case pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry as is
			return true
		}
		return false
	}
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true // the server closed the connection under the query
	case errors.As(err, &oe), errors.As(err, &ne):
		return true
	}
	return false
}
