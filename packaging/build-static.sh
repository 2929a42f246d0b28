#!/usr/bin/env bash
# Builds the self-contained release binary dist/cobinar-phone: httplib (compiled in from
# Debian 13's cpp-httplib source package, as in every build: CMake runs
# scripts/fetch-httplib.sh), OpenSSL, SQLite, SQLiteCpp, libsodium, zlib, brotli, tcmalloc
# (the allocator, CMake COBINAR_ALLOCATOR), libpq (built by packaging/build-libpq.sh) and
# libstdc++/libgcc are linked statically; only
# glibc's own libraries stay dynamic.
# Verify the result with packaging/check-static.sh.
#
# Idempotent and non-interactive: the CMake build dir build-static/ (with the fetched httplib
# in build-static/_deps/httplib) is reused, so a rerun only rebuilds what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CI=true DEBIAN_FRONTEND=noninteractive
exec </dev/null


if [ -x scripts/install-deps.sh ]; then
  scripts/install-deps.sh
elif [ -f scripts/install-deps.sh ]; then
  bash scripts/install-deps.sh
fi

build_dir=build-static
mkdir -p "$build_dir"

# Earlier versions of this script kept Debian 12's httplib 0.11.4 in build-static/httplib and
# pointed the CMake cache at it; forget both so CMake fetches trixie's like every build does.
cmake_reset=()
if [ -d "$build_dir/httplib" ]; then
  rm -rf "$build_dir/httplib"
  cmake_reset=(-UCOBINAR_HTTPLIB_SOURCE_DIR)
fi

# libpq for the PostgreSQL engine: Debian's libpq.a needs GSSAPI and LDAP, which have no static
# archives, so build it from Debian's postgresql-15 source package without them (reused).
packaging/build-libpq.sh "$PWD/$build_dir/libpq"

# --- configure and build ----------------------------------------------------------------------
cmake -S . -B "$build_dir" "${cmake_reset[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCOBINAR_STATIC=ON \
  -DCOBINAR_LIBPQ_DIR="$PWD/$build_dir/libpq" \
  -DCOBINAR_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target cobinar-phone -j2

mkdir -p dist
cp -f "$build_dir/cobinar-phone" dist/cobinar-phone.tmp
strip dist/cobinar-phone.tmp
mv -f dist/cobinar-phone.tmp dist/cobinar-phone
size=$(stat -c %s dist/cobinar-phone)
echo "build-static: dist/cobinar-phone $size bytes ($(numfmt --to=iec-i --suffix=B "$size")): $(dist/cobinar-phone version)"
