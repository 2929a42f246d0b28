#!/usr/bin/env bash
# Usage: packaging/build-libpq.sh DEST_DIR
#
# Builds a static libpq for the static release binary (Debian ships only libpq.so): from
# Debian 12 "bookworm"'s postgresql-15 source package (bookworm, bookworm-updates or
# bookworm-security, whichever is newest), fetched as scripts/fetch-httplib.sh does: apt with a
# private state directory (the system's apt configuration is neither read nor changed) checks
# it against /usr/share/keyrings/debian-archive-keyring.gpg; dpkg-source -x applies Debian's
# patches (security fixes). Configured without GSSAPI, LDAP, ICU, readline and zlib, with
# OpenSSL; only libpq and what it needs (src/common, src/port) are compiled. Leaves:
#   DEST_DIR/lib/libpq.a  libpgcommon_shlib.a  libpgport_shlib.a
#   DEST_DIR/include/libpq-fe.h  libpq-events.h  postgres_ext.h  pg_config_ext.h
#   DEST_DIR/debian-version
# Link statically, in this order (glibc's libraries stay dynamic):
#   -Wl,-Bstatic -lpq -lpgcommon_shlib -lpgport_shlib -lssl -lcrypto -Wl,-Bdynamic -lpthread -ldl
#
# Idempotent (does nothing when DEST_DIR/lib/libpq.a is newer than this script), non-interactive,
# safe to run concurrently for the same DEST_DIR. Builds in a work dir under DEST_DIR (removed
# afterwards). Needs build-essential, dpkg-dev, debian-archive-keyring, gpgv, xz-utils, perl and
# libssl-dev (scripts/install-deps.sh). About 2 minutes on 2 cores.
# Environment: COBINAR_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# COBINAR_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
exec </dev/null

suite=bookworm
series=15  # PostgreSQL's major version
src_pkg=postgresql-15
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${COBINAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${COBINAR_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
script=$(readlink -f "${BASH_SOURCE[0]}")

log() { echo "build-libpq: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 DEST_DIR" >&2; exit 2; }
mkdir -p "$1"
dest=$(cd "$1" && pwd)

report() { echo "libpq $(cat "$dest/debian-version" 2>/dev/null || echo '?') (static): $dest/lib/libpq.a"; }
done_already() { [ -f "$dest/lib/libpq.a" ] && [ "$dest/lib/libpq.a" -nt "$script" ]; }
done_already && { report; exit 0; }

# One build at a time per DEST_DIR; re-check under the lock.
exec 9>"$dest/.lock"
flock 9
done_already && { report; exit 0; }

for tool in apt-get dpkg-source gpgv xz gcc make perl; do
  command -v "$tool" >/dev/null || die "$tool is missing (run scripts/install-deps.sh)"
done
[ -f "$keyring" ] || die "$keyring is missing (install debian-archive-keyring)"
[ -f /usr/include/openssl/ssl.h ] || die "OpenSSL headers are missing (install libssl-dev)"

work=$(mktemp -d "$dest/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sourceparts" \
  "$work/apt/preferences.d" "$work/dl"
# The main archive comes first: when it has the same version as bookworm-security, apt takes
# it from there (the security archive's pool is not always reachable through mirrors/proxies).
cat >"$work/apt/sourceparts/bookworm-src.sources" <<EOF
Types: deb-src
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: $keyring

Types: deb-src
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: $keyring
EOF
apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$work/apt/sourceparts"
  -o "Dir::Etc::Preferences=/dev/null"
  -o "Dir::Etc::PreferencesParts=$work/apt/preferences.d"
  -o "Dir::State::Lists=$work/apt/lists"
  -o "Dir::Cache=$work/apt/cache"
  -o "APT::Sandbox::User=$(id -un)"
  -o "Acquire::Retries=3"
  -o "Acquire::Languages=none"
)
log "downloading the $suite source index from $mirror and $security_mirror"
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update failed (network, or a bad signature)"
# Every version the indexes offer, newest first: the newest is taken when its pool can be
# reached, else the next one, with a warning (some mirrors/proxies do not serve the security
# archive's pool; then the main archive's point-release version is built).
versions=$(apt-cache "${apt_opts[@]}" showsrc --only-source "$src_pkg" 2>/dev/null | sed -n 's/^Version: //p' |
  sort -u | sort -r -V)
[ -n "$versions" ] || die "no $src_pkg source package in $suite's indexes"
newest=$(head -n1 <<<"$versions")
fetched=""
for candidate in $versions; do
  rm -f "$work/dl"/*
  if (cd "$work/dl" && apt-get "${apt_opts[@]}" -qq --only-source source --download-only \
    "$src_pkg=$candidate" >"$work/apt-source.log" 2>&1); then
    fetched=$candidate
    break
  fi
  log "warning: cannot download $src_pkg $candidate: $(grep -m1 '^E:' "$work/apt-source.log" || tail -n1 "$work/apt-source.log")"
done
[ -n "$fetched" ] || { cat "$work/apt-source.log" >&2; die "apt-get source $src_pkg failed for every version"; }
[ "$fetched" = "$newest" ] || log "warning: building $src_pkg $fetched, not the newest $newest (its pool was unreachable)"
dsc=$(find "$work/dl" -maxdepth 1 -name "${src_pkg}_*.dsc" -print -quit)
[ -n "$dsc" ] || die "apt-get source did not produce a .dsc for $src_pkg"
version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)
case "${version#*:}" in
  "$series".*) ;;
  *) die "$suite serves $src_pkg $version, expected $series.x" ;;
esac
# apt has checked the files against the signed index; dpkg-source checks them against the .dsc
# and applies Debian's patches (its warning about the uploader's signature is noise here).
if ! out=$(dpkg-source -x "$dsc" "$work/src" 2>&1); then
  echo "$out" >&2
  die "dpkg-source -x $(basename "$dsc") failed"
fi
log "building libpq from $src_pkg $version (downloaded in ${SECONDS}s)"

cd "$work/src"
# -fPIC: the archives may end up in a position-independent executable. --sysconfdir as Debian's
# libpq5 (pg_service.conf in /etc/postgresql-common).
if ! ./configure --without-gssapi --without-ldap --without-icu --without-readline --without-zlib \
  --with-openssl --disable-nls --prefix=/usr --sysconfdir=/etc/postgresql-common CFLAGS="-O2 -g0 -fPIC" >"$work/configure.log" 2>&1; then
  tail -n 40 "$work/configure.log" >&2
  die "configure failed (log above)"
fi
log "configured (${SECONDS}s)"
# libpq's makefile builds the generated headers and libpgcommon_shlib / libpgport_shlib first.
if ! make -j2 -C src/interfaces/libpq all-static-lib >"$work/make.log" 2>&1; then
  tail -n 60 "$work/make.log" >&2
  die "make failed (log above)"
fi
for archive in src/interfaces/libpq/libpq.a src/common/libpgcommon_shlib.a src/port/libpgport_shlib.a; do
  [ -f "$archive" ] || die "$archive was not built"
done

rm -rf "${dest:?}/lib" "${dest:?}/include"
mkdir -p "$dest/lib" "$dest/include"
cp src/interfaces/libpq/libpq-fe.h src/interfaces/libpq/libpq-events.h \
  src/include/postgres_ext.h src/include/pg_config_ext.h "$dest/include/"
cp COPYRIGHT "$dest/COPYRIGHT"
echo "$version" >"$dest/debian-version"
cp src/common/libpgcommon_shlib.a src/port/libpgport_shlib.a "$dest/lib/"
cp src/interfaces/libpq/libpq.a "$dest/lib/libpq.a.tmp"
mv -f "$dest/lib/libpq.a.tmp" "$dest/lib/libpq.a"  # last: its presence means "done"
log "built $src_pkg $version's libpq in ${SECONDS}s"
report
