package pgaad_test

import (
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
)

// TestMain stops the package's emulator after the tests.
func TestMain(m *testing.M) { pgtest.Main(m) }
