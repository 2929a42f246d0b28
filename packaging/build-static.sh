#!/usr/bin/env bash
# Builds the self-contained release binary dist/cobinar-phone: httplib (compiled in from
# Debian's cpp-httplib source package), OpenSSL, SQLite, SQLiteCpp, libsodium and
# libstdc++/libgcc are linked statically; only glibc's own libraries stay dynamic.
# Verify the result with packaging/check-static.sh.
#
# Idempotent and non-interactive: the httplib source is cached under build-static/ and the
# CMake build dir build-static/ is reused, so a rerun only rebuilds what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CI=true DEBIAN_FRONTEND=noninteractive
exec </dev/null

log() { echo "build-static: $*" >&2; }

if [ -x scripts/install-deps.sh ]; then
  scripts/install-deps.sh
elif [ -f scripts/install-deps.sh ]; then
  bash scripts/install-deps.sh
fi

build_dir=build-static
mkdir -p "$build_dir"
root=$(pwd)

# --- httplib.h from the Debian source package matching the installed libcpp-httplib-dev ----
src_pkg=$(dpkg-query -W -f='${source:Package}' libcpp-httplib-dev 2>/dev/null || true)
version=$(dpkg-query -W -f='${Version}' libcpp-httplib-dev 2>/dev/null || true)
[ -n "$src_pkg" ] || src_pkg=cpp-httplib
if [ -z "$version" ]; then
  echo "build-static: libcpp-httplib-dev is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
httplib_dir="$root/$build_dir/httplib/$src_pkg-${version//:/_}"

if [ ! -f "$httplib_dir/httplib.h" ]; then
  log "fetching Debian source package $src_pkg=$version"
  work="$root/$build_dir/httplib/work"
  rm -rf "$work"
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sourceparts" "$work/dl"
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  cat >"$work/apt/sourceparts/deb-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt_opts=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$work/apt/sourceparts"
    -o "Dir::State::Lists=$work/apt/lists"
    -o "Dir::Cache=$work/apt/cache"
    -o "APT::Sandbox::User=$(id -un)"
    -o "Acquire::Retries=3"
  )
  apt-get "${apt_opts[@]}" -qq update
  (cd "$work/dl" && apt-get "${apt_opts[@]}" -qq source --download-only "$src_pkg=$version")
  dsc=$(find "$work/dl" -maxdepth 1 -name "${src_pkg}_*.dsc" -print -quit)
  if [ -z "$dsc" ]; then
    echo "build-static: apt-get source did not produce a .dsc for $src_pkg=$version" >&2
    exit 1
  fi
  # dpkg-source applies Debian's patches (security fixes) on extraction.
  dpkg-source -x "$dsc" "$work/src" >/dev/null
  if [ ! -f "$work/src/httplib.h" ]; then
    echo "build-static: $dsc has no single-file httplib.h" >&2
    exit 1
  fi
  rm -rf "$httplib_dir"
  mv "$work/src" "$httplib_dir"
  rm -rf "$work"
fi
log "httplib: $httplib_dir/httplib.h ($src_pkg $version)"

# --- configure and build ----------------------------------------------------------------------
cmake -S . -B "$build_dir" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCOBINAR_STATIC=ON \
  -DCOBINAR_BUILD_TESTS=OFF \
  -DCOBINAR_HTTPLIB_SOURCE_DIR="$httplib_dir" >/dev/null
cmake --build "$build_dir" --target cobinar-phone -j2

mkdir -p dist
cp -f "$build_dir/cobinar-phone" dist/cobinar-phone.tmp
strip dist/cobinar-phone.tmp
mv -f dist/cobinar-phone.tmp dist/cobinar-phone
size=$(stat -c %s dist/cobinar-phone)
echo "build-static: dist/cobinar-phone $size bytes ($(numfmt --to=iec-i --suffix=B "$size"))"
