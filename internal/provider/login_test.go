package provider_test

import (
	"context"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

func TestSmokeManagedIdentityLogin(t *testing.T) {
	e := acctest.Emulator(t)
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		t.Fatal(err)
	}
	c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: e.AdminName(), SSLMode: "verify-full", SSLRootCert: e.CAFile(), Password: src.Password, Entra: true})
	defer c.Close()
	p, err := c.Pool(context.Background(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	var who string
	if err := p.QueryRow(context.Background(), "select current_user").Scan(&who); err != nil {
		t.Fatal(err)
	}
	if who != e.AdminName() {
		t.Fatalf("got %q", who)
	}
}
