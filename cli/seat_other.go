//go:build !unix

package cli

// holdSeat cannot prove an earlier process gone without flock: rows it
// left wait for their lease.
func holdSeat(dir string) bool { return false }
