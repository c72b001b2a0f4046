#!/usr/bin/env bash
# Builds Terraform v1.14.9 from its source tarball, terraform-v1.14.9-src.tar.gz, in one
# of the vendor directories searched below (its Go module cannot be built with
# `go install`: replace directives) and caches the binary.
# Prints the binary's path on stdout; prints one line on stderr and exits 1 when
# it cannot be built (tests that need it then skip). Reuses the cached binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=1.14.9
out="${AZUREPG_TF114_CACHE:-$HOME/.cache/terraform-$version}/terraform"
# Read the whole output before matching: with pipefail, `version | head -1` fails
# whenever head closes the pipe before terraform has written its last line (SIGPIPE),
# and the cached binary was then built again.
if [ -x "$out" ]; then
  have=$("$out" version -json 2>/dev/null || true)
  case "$have" in *"\"terraform_version\": \"$version\""*) echo "$out"; exit 0 ;; esac
fi

tarball=""
for d in ../shared/vendor "${AZUREPG_SHARED_DIR:-/nonexistent}/vendor"; do
  [ -f "$d/terraform-v$version-src.tar.gz" ] && tarball="$d/terraform-v$version-src.tar.gz" && break
done
if [ -z "$tarball" ]; then
  echo "terraform $version: source tarball not found in ../shared/vendor; 1.14 tests will skip" >&2; exit 1
fi
src=$(mktemp -d); trap 'rm -rf "$src"' EXIT
tar xzf "$tarball" -C "$src"
mkdir -p "$(dirname "$out")"
if ! (cd "$src" && go build -ldflags "-X github.com/hashicorp/terraform/version.dev=no" -o "$out.tmp" . ) >&2; then
  echo "terraform $version: build failed; 1.14 tests will skip" >&2; exit 1
fi
mv "$out.tmp" "$out"
echo "$out"
