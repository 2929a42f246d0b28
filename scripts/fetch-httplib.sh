#!/usr/bin/env bash
# Usage: scripts/fetch-httplib.sh DEST_DIR
#
# Leaves cpp-httplib in DEST_DIR, taken from Debian 13 "trixie"'s cpp-httplib source package
# (trixie, trixie-updates or trixie-security, whichever is newest; a 0.18.x release). apt
# downloads it with a private state directory (the system's apt configuration is neither read
# nor changed; no root needed) and checks it against
# /usr/share/keyrings/debian-archive-keyring.gpg; dpkg-source -x applies Debian's patches
# (security fixes). CMake runs this at configure time, for every build.
#
# The single-file httplib.h is split as upstream's split.py does (and Debian's own build):
#   DEST_DIR/httplib.h   the declarations, included by our code
#   DEST_DIR/httplib.cc  the implementation, compiled once (cmake/httplib_impl.cpp)
# so the ~8,000 implementation lines are not recompiled in every file that includes httplib.h.
#
# Idempotent (does nothing when DEST_DIR holds both files), non-interactive, and safe to run
# concurrently for the same DEST_DIR. Prints the version on stdout.
# Environment: COBINAR_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# COBINAR_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
exec </dev/null

suite=trixie
series=0.18  # the API our code is written against
src_pkg=cpp-httplib
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${COBINAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${COBINAR_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

log() { echo "fetch-httplib: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 DEST_DIR" >&2; exit 2; }
mkdir -p "$1"
dest=$(cd "$1" && pwd)

header_version() { sed -n 's/^#define CPPHTTPLIB_VERSION "\(.*\)"$/\1/p' "$1" | head -n1; }
report() {
  local debian=""
  [ -f "$dest/debian-version" ] && debian=" (Debian $src_pkg $(cat "$dest/debian-version"))"
  echo "cpp-httplib $(header_version "$dest/httplib.h")$debian: $dest/httplib.h"
}

done_already() {
  [ -f "$dest/httplib.h" ] || return 1
  [ -f "$dest/httplib.cc" ] && return 0
  die "$dest/httplib.h exists but $dest/httplib.cc does not: not made by this script; remove $dest"
}
done_already && { report; exit 0; }

# One fetch at a time per DEST_DIR (parallel configures share it); re-check under the lock.
exec 9>"$dest/.lock"
flock 9
done_already && { report; exit 0; }

for tool in apt-get dpkg-source gpgv xz; do
  command -v "$tool" >/dev/null || die "$tool is missing (run scripts/install-deps.sh)"
done
[ -f "$keyring" ] || die "$keyring is missing (install debian-archive-keyring)"
# The keyring must hold trixie's archive keys (debian-archive-keyring >= 2023.3+deb12u2).
if ! grep -aq "(13/trixie)" "$keyring"; then
  die "$keyring has no Debian 13/trixie key; upgrade debian-archive-keyring (apt-get install debian-archive-keyring)"
fi

work=$(mktemp -d "$dest/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sourceparts" \
  "$work/apt/preferences.d" "$work/dl"
# The main archive comes first: when it has the same version as trixie-security, apt takes
# it from there (the security archive's pool is not always reachable through mirrors/proxies).
cat >"$work/apt/sourceparts/trixie-src.sources" <<EOF
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
(cd "$work/dl" && apt-get "${apt_opts[@]}" -qq --only-source source --download-only "$src_pkg" >&2) ||
  die "apt-get source $src_pkg failed"
dsc=$(find "$work/dl" -maxdepth 1 -name "${src_pkg}_*.dsc" -print -quit)
[ -n "$dsc" ] || die "apt-get source did not produce a .dsc for $src_pkg"
version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)
case "${version#*:}" in
  "$series".*) ;;
  *) die "$suite serves $src_pkg $version, expected $series.x (our code is adapted to that API)" ;;
esac
# apt has checked the files against the signed index; dpkg-source checks them against the .dsc
# and applies Debian's patches. (Its warning that it cannot check the uploader's signature
# without the debian-keyring package is noise here, so its output shows only on failure.)
if ! out=$(dpkg-source -x "$dsc" "$work/src" 2>&1); then
  echo "$out" >&2
  die "dpkg-source -x $(basename "$dsc") failed"
fi
[ -f "$work/src/httplib.h" ] || die "$(basename "$dsc") has no single-file httplib.h"

# split.py's rule, without needing Python: the lines between the two border comments are the
# implementation; in httplib.cc they lose their "inline ". DEST_DIR gets only these files (it
# becomes an include directory).
border='// ----------------------------------------------------------------------------'
grep -qF -- "$border" "$work/src/httplib.h" || die "httplib.h has no implementation border (split.py format changed?)"
awk -v border="$border" -v h="$work/httplib.h" -v cc="$work/httplib.cc" '
  BEGIN { print "#include \"httplib.h\"" > cc; print "namespace httplib {" > cc }
  index($0, border) { impl = !impl; next }
  impl { gsub(/inline /, ""); print > cc; next }
  { print > h }
  END { print "} // namespace httplib" > cc }
' "$work/src/httplib.h"
cp "$work/src/LICENSE" "$dest/LICENSE"
echo "$version" >"$dest/debian-version"
mv -f "$work/httplib.cc" "$dest/httplib.cc"
mv -f "$work/httplib.h" "$dest/httplib.h"  # last: its presence means "done"
log "fetched $src_pkg $version from $suite"
report
