package store

import "context"

// MigrateUpTo applies the migrations up to version, for tests of a
// migration's handling of the rows before it.
func (s *Store) MigrateUpTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
