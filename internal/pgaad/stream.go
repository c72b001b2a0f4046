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
	sent := 0
	_, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (struct{}, error) {
		if sent > 0 {
			return struct{}{}, errStreamCut
		}
		rows, err := q.Query(ctx, entraPrincipalsQuery, f.NameLike)
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
// by name, one row at a time; fn returns false to stop early. As with
// EachPrincipal, a connection lost before the first row is retried.
func (c *Client) EachExtension(ctx context.Context, database string, fn func(Extension) bool) error {
	const op = "listing extensions"
	sent := 0
	_, err := read(ctx, c, database, op, func(q querier) (struct{}, error) {
		if sent > 0 {
			return struct{}{}, errStreamCut
		}
		rows, err := q.Query(ctx, extensionQuery+" ORDER BY e.extname")
		if err != nil {
			return struct{}{}, err
		}
		defer rows.Close()
		for rows.Next() {
			x := Extension{Database: database}
			if err := rows.Scan(&x.Name, &x.Schema, &x.Version); err != nil {
				return struct{}{}, err
			}
			sent++
			if !fn(x) {
				return struct{}{}, nil
			}
		}
		return struct{}{}, rows.Err()
	})
	if errors.Is(err, errStreamCut) {
		err = fmt.Errorf("the connection was lost after %d extensions had been read; run the command again", sent)
	}
	if err != nil {
		return c.extensionError(op, database, "*", err)
	}
	return nil
}
