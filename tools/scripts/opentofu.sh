#!/usr/bin/env bash
# Builds OpenTofu v1.12.6 from the source kept in ../shared/vendor and caches the
# binary (make testacc-tofu runs the acceptance tests under it).
# Prints the binary's path on stdout; prints one line on stderr and exits 1 when
# it cannot be built (make testacc-tofu then skips). Reuses the cached binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=1.12.6
out="${AZUREPG_TOFU_CACHE:-$HOME/.cache/opentofu-$version}/tofu"
# Read the whole output before matching: with pipefail, `version | head -1` fails
# whenever head closes the pipe before tofu has written its last line (SIGPIPE),
# and the cached binary was then built again.
if [ -x "$out" ]; then
  have=$("$out" version -json 2>/dev/null || true)
  case "$have" in *"\"terraform_version\": \"$version\""*) echo "$out"; exit 0 ;; esac
fi

tarball=""
for d in ../shared/vendor "${AZUREPG_SHARED_DIR:-/nonexistent}/vendor"; do
  [ -f "$d/opentofu-v$version-src.tar.gz" ] && tarball="$d/opentofu-v$version-src.tar.gz" && break
done
if [ -z "$tarball" ]; then
  echo "opentofu $version: source tarball not found in ../shared/vendor; the OpenTofu tests will skip" >&2; exit 1
fi
src=$(mktemp -d); trap 'rm -rf "$src"' EXIT
tar xzf "$tarball" -C "$src"
mkdir -p "$(dirname "$out")"
if ! (cd "$src" && go build -ldflags "-X github.com/opentofu/opentofu/version.dev=no" -o "$out.tmp" ./cmd/tofu ) >&2; then
  echo "opentofu $version: build failed; the OpenTofu tests will skip" >&2; exit 1
fi
mv "$out.tmp" "$out"
echo "$out"
