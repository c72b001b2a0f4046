package pgaad

import (
	"context"
	"errors"
)

// The writes of extensions and azure_ai settings, retried (at most
// maxConnLostRetries times) when their connection died under them (a restart or failover, pg_terminate_backend).
// Each runs in one transaction, so a failure before COMMIT left nothing
// behind and running it again is safe.

// CreateExtension runs CREATE EXTENSION (never CASCADE) and reads the result
// back in the same transaction. When the connection died during COMMIT, the
// server may have committed: the second attempt then finds the extension,
// and if it is as asked, the creation succeeded (reporting a failure would
// leave an extension that Terraform does not know about and cannot create).
func (c *Client) CreateExtension(ctx context.Context, nx NewExtension) (Extension, error) {
	x, err := c.createExtension(ctx, nx)
	retried := false
	for retries := 0; retries < maxConnLostRetries && c.retryable(ctx, nx.Database, err); retries++ {
		x, err = c.createExtension(ctx, nx)
		retried = true
	}
	if retried && errors.Is(err, ErrAlreadyExists) {
		got, rerr := c.Extension(ctx, nx.Database, nx.Name)
		if rerr == nil && (nx.Schema == "" || got.Schema == nx.Schema) && (nx.Version == "" || got.Version == nx.Version) {
			return got, nil
		}
	}
	return x, err
}

// UpdateExtension runs ALTER EXTENSION ... UPDATE TO version and reads the
// result back; updating to the installed version changes nothing, so a
// second attempt is safe whatever the first did.
func (c *Client) UpdateExtension(ctx context.Context, database, name, version string) (Extension, error) {
	x, err := c.updateExtension(ctx, database, name, version)
	for retries := 0; retries < maxConnLostRetries && c.retryable(ctx, database, err); retries++ {
		x, err = c.updateExtension(ctx, database, name, version)
	}
	return x, err
}

// ApplyAISettings makes every change in one transaction on the database's
// own pool: either all keys change or none. Setting a key to a value is
// idempotent, so a second attempt is safe whatever the first did.
func (c *Client) ApplyAISettings(ctx context.Context, database string, changes []AISettingChange) error {
	err := c.applyAISettings(ctx, database, changes)
	for retries := 0; retries < maxConnLostRetries && c.retryable(ctx, database, err); retries++ {
		err = c.applyAISettings(ctx, database, changes)
	}
	return err
}

// retryable reports whether err is a lost connection worth another try,
// and if so drops the pool's other idle connections, which died with it.
func (c *Client) retryable(ctx context.Context, database string, err error) bool {
	if err == nil || ctx.Err() != nil || !connLost(err) {
		return false
	}
	pool, perr := c.Pool(database)
	if perr != nil {
		return false
	}
	pool.Reset()
	suspectPool(pool)
	return true
}
