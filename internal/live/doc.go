// Package live holds the live suite: the user stories and the confirm-or-refute
// checks of the emulator's guesses, run against a real Azure Database for
// PostgreSQL flexible server. Everything is in the _test files; `make
// testacc-live` runs them when the AZUREPG_LIVE_* variables are set, and
// prints one skip line otherwise. CONTRIBUTING.md ("Live suite") lists the
// variables, the tests, and the azurerm HCL that creates the server.
package live
