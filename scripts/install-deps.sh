#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need; does nothing when all are there.
set -euo pipefail

# cpp-httplib is not among them: CMake fetches Debian 13's source package with
# scripts/fetch-httplib.sh (apt, dpkg-dev, the archive keyring with trixie's keys, xz, gpgv)
# and compiles it in; zlib and brotli are for its compressed bodies. libgoogle-perftools-dev
# brings tcmalloc (libtcmalloc_minimal), cobinar-phone's allocator (CMake COBINAR_ALLOCATOR).
packages=(
  build-essential cmake pkg-config
  nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev libsodium-dev libssl-dev
  libcli11-dev libtomlplusplus-dev doctest-dev zlib1g-dev libbrotli-dev
  libgoogle-perftools-dev
  # Phone numbers (SPEC §14): libphonenumber with its metadata; its -dev dependencies bring the
  # protobuf, ICU and abseil archives the static release links.
  libphonenumber-dev libprotobuf-dev libicu-dev libabsl-dev
  # PostgreSQL 15 storage: libpq-dev for the dynamic builds; postgresql-15 is the server that
  # scripts/with-postgres.sh starts, throwaway, for the tests (initdb, pg_ctl, postgres; its
  # dependency postgresql-client-15 brings psql). Debian's own "main" cluster is not used.
  postgresql-15 libpq-dev
  dpkg-dev debian-archive-keyring xz-utils gpgv
  curl ca-certificates openssl
)

# Node.js runs the webhook and receipt end-to-end tests (the public standardwebhooks and jose
# packages); any installed node 18+ will do, else Debian's.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# fetch-httplib.sh checks trixie's signatures: a keyring older than 2023.3+deb12u2 lacks its
# keys, and installing the package again upgrades it.
grep -aqs "(13/trixie)" /usr/share/keyrings/debian-archive-keyring.gpg || missing+=(debian-archive-keyring)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
