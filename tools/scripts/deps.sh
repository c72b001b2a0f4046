#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to run the emulator and the
# tests: PostgreSQL 15 server binaries, its server headers (the emulator's
# label-provider module is built with PGXS) and a C tool chain. A no-op when
# everything is there. Needs root or sudo only when something is missing.
# With PG_MAJOR=17 or 18 it also fetches that server into a cache
# (tools/scripts/postgres.sh, with npm); postgresql-15 still brings psql
# (make demo) and the "postgres" OS user that runs the server under root.
set -euo pipefail

major=${PG_MAJOR:-15}
fetch_major() {
  [ "$major" = 15 ] || bash "$(dirname "$0")/postgres.sh" "$major" >/dev/null
}

pkgs=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || pkgs+=(postgresql-15)
[ -f /usr/include/postgresql/15/server/postgres.h ] || pkgs+=(postgresql-server-dev-15)
command -v make >/dev/null || pkgs+=(make)
command -v curl >/dev/null || pkgs+=(curl) # make demo fetches the Entra admin's token from the emulator
command -v gcc >/dev/null || pkgs+=(gcc libc6-dev)
[ "$major" = 15 ] || command -v npm >/dev/null || pkgs+=(npm)
if [ ${#pkgs[@]} -eq 0 ]; then fetch_major; exit 0; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "error: missing Debian packages (${pkgs[*]}) and no root or sudo to install them" >&2; exit 1
  fi
fi
echo "--- installing Debian packages: ${pkgs[*]}"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fetch_major
