package store

import "context"

// Setting is a PostgreSQL setting as the transaction sees it now.
func (tx *Tx) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := tx.tx.GetContext(ctx, &v, `SELECT current_setting($1)`, name)
	return v, err
}
