#!/usr/bin/env bash
# Builds dist/cobinar-phone_<version>_<arch>.deb from the static release binary
# (argument, default dist/cobinar-phone, made by packaging/build-static.sh). Takes seconds; needs
# dpkg-deb (and objdump, if present, to derive the glibc the binary needs).
#
# Contents:
#   /usr/bin/cobinar-phone                        0755  the binary
#   /lib/systemd/system/cobinar-phone.service     0644  packaging/cobinar-phone.service
#   /etc/cobinar-phone/cobinar.toml               0640  conffile, from packaging/cobinar.example.toml
#   /usr/share/doc/cobinar-phone/README.md        0644
#   /usr/share/doc/cobinar-phone/copyright        0644  packaging/deb/copyright
#   DEBIAN/{control,conffiles,md5sums}, DEBIAN/{postinst,prerm,postrm} from packaging/deb/
# Everything is owned by root:root (dpkg-deb --root-owner-group); postinst creates the system
# user cobinar-phone and gives /etc/cobinar-phone and the config to its group.
# Check the result with packaging/check-deb.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

binary=${1:-dist/cobinar-phone}
fail() { echo "build-deb: FAIL: $*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || fail "dpkg-deb is not installed"
[ -f "$binary" ] && [ -x "$binary" ] || fail "$binary is missing or not executable (run packaging/build-static.sh)"

# --- version, architecture, glibc -------------------------------------------------------------
cmake_version=$(sed -nE 's/^project\([a-z_]+ VERSION ([0-9][0-9.]*).*/\1/p' CMakeLists.txt | head -n1)
[ -n "$cmake_version" ] || fail "no project(... VERSION x.y.z) in CMakeLists.txt"
# `cobinar-phone version` prints "cobinar-phone 0.1.0 (cpp-httplib 0.18.7, tcmalloc)".
version=$("$binary" version 2>/dev/null | awk 'NR == 1 && $1 == "cobinar-phone" { print $2 }') || true
[ -n "$version" ] || fail "'$binary version' did not print 'cobinar-phone <version> ...'"
[ "$version" = "$cmake_version" ] ||
  fail "$binary is version $version but CMakeLists.txt says $cmake_version: rebuild it (packaging/build-static.sh)"
arch=$(dpkg --print-architecture)

# The highest GLIBC_x.y symbol version the binary references is the libc6 it needs.
glibc=2.36
if command -v objdump >/dev/null; then
  found=$(objdump -T "$binary" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/^GLIBC_//' | sort -uV | tail -n1 || true)
  [ -z "$found" ] || glibc=$found
else
  echo "build-deb: objdump not found; assuming the binary needs glibc >= $glibc" >&2
fi

maintainer=${DEB_MAINTAINER:-"Cobinar Phone Server authors <maintainers@cobinar-phone.invalid>"}
deb=dist/cobinar-phone_${version}_${arch}.deb

# --- stage the tree ---------------------------------------------------------------------------
stage=$(mktemp -d "${TMPDIR:-/tmp}/cobinar-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
umask 022

install -D -m 0755 "$binary" "$root/usr/bin/cobinar-phone"
install -D -m 0644 packaging/cobinar-phone.service "$root/lib/systemd/system/cobinar-phone.service"
install -d -m 0750 "$root/etc/cobinar-phone"
install -m 0640 packaging/cobinar.example.toml "$root/etc/cobinar-phone/cobinar.toml"
install -D -m 0644 README.md "$root/usr/share/doc/cobinar-phone/README.md"
install -D -m 0644 packaging/deb/copyright "$root/usr/share/doc/cobinar-phone/copyright"

install -d -m 0755 "$root/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$root/DEBIAN/$script"
done
echo /etc/cobinar-phone/cobinar.toml >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"
(cd "$root" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: cobinar-phone
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: libc6 (>= $glibc), adduser
Section: net
Priority: optional
Description: self-hosted OTP and phone-identity API server
 Cobinar Phone Server sends and verifies one-time codes by SMS for your
 applications, with a developer console, webhooks and analytics, in one
 statically linked executable with an SQLite store.
 .
 This package installs the binary, a hardened systemd unit that runs it as the
 system user cobinar-phone with its data in /var/lib/cobinar-phone, and the
 configuration file /etc/cobinar-phone/cobinar.toml.
EOF
chmod 0644 "$root/DEBIAN/control"

mkdir -p dist
rm -f "$deb"
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb.tmp" >/dev/null
mv -f "$deb.tmp" "$deb"
size=$(stat -c %s "$deb")
echo "build-deb: $deb $size bytes ($(numfmt --to=iec-i --suffix=B "$size")): version $version, $arch, libc6 >= $glibc"
