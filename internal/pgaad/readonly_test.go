package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// TestReadOnlyServer: on a read-only server (as Azure makes one whose
// storage is 95% full; pgtest.SetReadOnly says how the emulator does it)
// reads work, and every change fails at once with SQLSTATE 25006 told as
// ErrReadOnly with its advice, is not retried, and changes nothing. Once
// the server is writable again the same client makes the changes.
//
// Not parallel: it makes the test binary's shared server read-only.
func TestReadOnlyServer(t *testing.T) {
	e := pgtest.Emulator(t)
	ctx := context.Background()
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []string
	c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: e.AdminName(), SSLMode: "verify-full", SSLRootCert: e.CAFile(),
		Password: src.Password, Entra: true, Log: func(_ context.Context, msg string, _ map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, msg)
		}})
	t.Cleanup(c.Close)

	mi := pgtest.NewObject(t, "managed_identity", "ro-mi")
	existing := pgtest.LongName(`ro "exists" @ é; 'x' `, 63)
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: existing, ObjectID: mi.ObjectID, Type: "service"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(context.Background(), existing, "") })
	user := pgtest.NewObject(t, "user", `ro "new" ü; 'q'`)
	plain := pgtest.LongName(`ro plain "r" @ ß; `, 63)

	pgtest.SetReadOnly(t, e, true)

	// Reads work.
	p, err := c.Principal(ctx, existing)
	if err != nil || p.ObjectID != mi.ObjectID || p.MFA {
		t.Fatalf("reading a principal of a read-only server: %+v, %v", p, err)
	}
	if all, err := c.ListPrincipals(ctx, false); err != nil || !contains(all, existing) {
		t.Fatalf("listing the principals of a read-only server: %v (%d listed)", err, len(all))
	}

	// Every kind of change fails the same way, naming its object.
	readOnly := func(what, name string, err error) {
		t.Helper()
		if !errors.Is(err, pgaad.ErrReadOnly) {
			t.Fatalf("%s on a read-only server: %v, want ErrReadOnly", what, err)
		}
		var pe *pgaad.Error
		if !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicReadOnly || pe.Advice != pgaad.ReadOnlyAdvice {
			t.Fatalf("%s: fact %+v, advice %q", what, pe.Fact, pe.Advice)
		}
		for _, want := range []string{"read-only transaction (SQLSTATE 25006)", "The server is read-only", "nothing was changed",
			"95% of its storage is used or less than 5 GiB are free", "read replica", "--storage-auto-grow Enabled", "It is not retried"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: the error lacks %q:\n%v", what, want, err)
			}
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("%s: the error does not name %q:\n%v", what, name, err)
		}
	}
	_, err = c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: user.Name, MFA: true})
	readOnly("creating a principal", user.Name, err)
	_, err = c.UpdatePrincipal(ctx, pgaad.PrincipalChange{Name: existing, Admin: true})
	readOnly("making a principal an admin", existing, err)
	readOnly("dropping a principal", existing, c.DropPrincipal(ctx, existing, ""))
	_, err = c.CreateRole(ctx, pgaad.RoleChange{Role: pgaad.Role{Name: plain}})
	readOnly("creating a role", plain, err)
	_, err = c.GrantMembership(ctx, pgaad.Membership{Role: existing, Member: e.AdminName()})
	readOnly("granting a membership", existing, err)

	// Nothing happened on the server, and nothing was tried twice.
	for _, name := range []string{user.Name, plain} {
		if pgtest.RoleExists(t, name) {
			t.Errorf("role %q exists after a refused change", name)
		}
	}
	if p, err := c.Principal(ctx, existing); err != nil || p.Admin || p.ObjectID != mi.ObjectID {
		t.Errorf("after the refused changes: %+v, %v; want the principal unchanged", p, err)
	}
	if m, err := c.Membership(ctx, existing, e.AdminName()); !errors.Is(err, pgaad.ErrNotFound) {
		t.Errorf("membership after a refused grant: %+v, %v", m, err)
	}
	mu.Lock()
	for _, l := range logs {
		if strings.Contains(l, "retrying") || strings.Contains(l, "waiting") {
			t.Errorf("a read-only server's refusal was retried or waited for: %q", l)
		}
	}
	mu.Unlock()

	// Writable again: the same client converges.
	pgtest.SetReadOnly(t, e, false)
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: user.Name, MFA: true}); err != nil {
		t.Fatalf("creating the principal once the server is writable: %v", err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(context.Background(), user.Name, "") })
	if _, err := c.UpdatePrincipal(ctx, pgaad.PrincipalChange{Name: existing, Admin: true}); err != nil {
		t.Fatalf("making the principal an admin once the server is writable: %v", err)
	}
	if p, err := c.Principal(ctx, user.Name); err != nil || !p.MFA || p.ObjectID != user.ObjectID {
		t.Fatalf("read back: %+v, %v", p, err)
	}
}
