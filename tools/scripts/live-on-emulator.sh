#!/usr/bin/env bash
# make testacc-live-emulator: the live suite (internal/live) against the local
# emulator instead of Azure. The suite's tests assert what the emulator does
# (each GUESS), so here they must all pass: this keeps the live suite itself
# working between the runs a maintainer makes against a real server, where a
# failure then means Azure differs from the emulator, not that the test rotted.
# The identities are the emulator's tenant (internal/emulator/pgext/tenant.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=emulator-lib.sh
source tools/scripts/emulator-lib.sh
start_emulator
# shellcheck disable=SC1091
source "$work/env.sh"

export AZUREPG_LIVE_HOST="$AZUREPG_HOST"
export AZUREPG_LIVE_ADMIN="$AZUREPG_USERNAME"
export AZUREPG_LIVE_AUTH_METHOD=managed_identity
export AZUREPG_LIVE_PASSWORD_ADMIN=pgadmin
AZUREPG_LIVE_PASSWORD=$(server_admin_password)
export AZUREPG_LIVE_PASSWORD
export AZUREPG_LIVE_MI_NAME=billing-worker
export AZUREPG_LIVE_MI_OBJECT_ID=6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a03
export AZUREPG_LIVE_USER_UPN=carol@contoso.com
export AZUREPG_LIVE_GROUP_NAME="O'Brien's Team"
export AZUREPG_LIVE_SHARED_NAME="Shared Name"
export AZUREPG_LIVE_DATABASE=app
export TF_ACC=1 CHECKPOINT_DISABLE=1
go test ./internal/live -run 'TestLive' -count=1 -v -timeout 20m "$@"
