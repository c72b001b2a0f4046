package pgaad

import (
	"context"
	"errors"
	"fmt"
)

// PrincipalFilter selects principals for EachPrincipal. The zero value
// selects every Entra principal.
type PrincipalFilter struct {
	// Type, when set, keeps only principals of that type (user, group, service).
	Type string
	// AdminsOnly keeps only Entra admins.
	AdminsOnly bool
	// NameLike, when set, is a SQL LIKE pattern the role name must match,
	// case-sensitively: % is any run of characters, _ one character, and
	// \ escapes them (the server matches it, bound as a parameter).
	NameLike string
}

// EachPrincipal calls fn for each Entra principal that f selects, ordered by
// name, one row at a time as the server sends them: nothing holds the whole
// list. fn returns false to stop early. A connection lost before the first
// row is retried; one lost later is an error (fn has seen part of the list).
func (c *Client) EachPrincipal(ctx context.Context, f PrincipalFilter, fn func(Principal) bool) error {
	const op = "listing principals"
	sql := principalColumns + ` WHERE EXISTS (
		SELECT 1 FROM pg_shseclabel s
		 WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider IN ('pgaadauth', 'pgaadauth-int'))
		AND ($1 = '' OR r.rolname LIKE $1)
		ORDER BY r.rolname`
	sent := 0
	_, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (struct{}, error) {
		if sent > 0 {
			return struct{}{}, errStreamCut
		}
		rows, err := q.Query(ctx, sql, f.NameLike)
		if err != nil {
			return struct{}{}, err
		}
		defer rows.Close()
		for rows.Next() {
			p, ok, err := scanPrincipal(rows) // the columns of a single read
			if err != nil {
				return struct{}{}, err
			}
			if !ok || (f.AdminsOnly && !p.Admin) || (f.Type != "" && p.Type != f.Type) {
				continue
			}
			sent++
			if !fn(p) {
				return struct{}{}, nil
			}
		}
		return struct{}{}, rows.Err()
	})
	if errors.Is(err, errStreamCut) {
		err = fmt.Errorf("the connection was lost after %d principals had been read; run the command again", sent)
	}
	return c.classify(op, Object{}, err, nil)
}

// errStreamCut stops a retry after part of a stream was delivered.
var errStreamCut = errors.New("stream cut")

// EachExtension calls fn for each extension installed in database, ordered
// by name, one row at a time; fn returns false to stop early.
func (c *Client) EachExtension(ctx context.Context, database string, fn func(Extension) bool) error {
	pool, err := c.Pool(ctx, database)
	if err != nil {
		return err
	}
	rows, err := pool.Query(ctx, `
SELECT e.extname, n.nspname, e.extversion
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 ORDER BY e.extname`)
	if err != nil {
		return c.extensionError("listing extensions", database, "*", err)
	}
	defer rows.Close()
	for rows.Next() {
		x := Extension{Database: database}
		if err := rows.Scan(&x.Name, &x.Schema, &x.Version); err != nil {
			return c.extensionError("listing extensions", database, "*", err)
		}
		if !fn(x) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return c.extensionError("listing extensions", database, "*", err)
	}
	return nil
}
