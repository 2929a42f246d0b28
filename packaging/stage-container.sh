#!/usr/bin/env bash
# Stages what packaging/Containerfile copies besides the binary, taken from THIS build host so
# the C library matches the one the binary was linked against:
#   dist/container-root/   → / in the image:
#     the dynamic loader and the glibc libraries `ldd` lists for the binary (nothing else: the
#       release binary links everything but glibc statically; anything else fails here);
#     etc/ssl/certs/ca-certificates.crt (for https webhooks and SMS gateways), and, as on Debian,
#       usr/lib/ssl/cert.pem and usr/lib/ssl/certs pointing at it (OpenSSL's compiled-in defaults);
#     etc/passwd and etc/group with root and nonroot (65532), etc/nsswitch.conf (files, dns —
#       built into glibc >= 2.34, no libnss_* needed), etc/hosts, tmp/ (1777, SQLite temp files);
#   dist/container-data/   → /data (empty, 0700; COPY --chown makes it the volume's owner 65532).
# Argument: the binary (default dist/cobinar-phone). Takes well under a second.
# Then: podman build -f packaging/Containerfile -t cobinar-phone .   (check: packaging/check-container.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

binary=${1:-dist/cobinar-phone}
fail() { echo "stage-container: FAIL: $*" >&2; exit 1; }
[ -f "$binary" ] && [ -x "$binary" ] || fail "$binary is missing or not executable (run packaging/build-static.sh)"
certs=/etc/ssl/certs/ca-certificates.crt
[ -s "$certs" ] || fail "$certs is missing (apt-get install ca-certificates)"

root=dist/container-root
data=dist/container-data
rm -rf "$root" "$data"
mkdir -p "$root" "$data"
chmod 0755 "$root"
chmod 0700 "$data"   # the server creates data.sqlite with the process umask (022 in containers)
umask 022

# --- the loader and glibc ---------------------------------------------------------------------
interp=$(readelf -l "$binary" | sed -nE 's/.*Requesting program interpreter: ([^]]+)\]/\1/p')
libs=()
if [ -n "$interp" ]; then
  libs+=("$interp")
  while read -r path; do
    libs+=("$path")
  done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
fi
for lib in "${libs[@]}"; do
  case "$(basename "$lib")" in
    ld-linux-*.so.* | ld-linux.so.* | libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.*) ;;
    *) fail "$binary needs $lib, which is not part of glibc: it is not the static release binary" ;;
  esac
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done

# --- certificates, users, name service, tmp ---------------------------------------------------
install -D -m 0644 "$certs" "$root$certs"
mkdir -p "$root/usr/lib/ssl"
ln -s /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/data:/sbin/nologin' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >"$root/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
printf '%s\n' '127.0.0.1 localhost' '::1 localhost ip6-localhost ip6-loopback' >"$root/etc/hosts"
install -d -m 1777 "$root/tmp"

echo "stage-container: $root: ${#libs[@]} glibc files ($(printf '%s ' "${libs[@]}")), CA bundle $(stat -c %s "$certs") bytes, passwd/group/nsswitch/hosts, tmp; $data"
