#!/usr/bin/env bash
# Checks the .deb made by packaging/build-deb.sh (argument, default
# dist/cobinar-phone_<CMake version>_<dpkg arch>.deb):
#   1. control fields, the file list with modes and owners, conffiles, md5sums;
#   2. the extracted binary's `version` matches the package version, and it accepts the shipped
#      config (migrate --config on a scratch database);
#   3. the maintainer scripts are POSIX sh with set -e (sh -n; checkbashisms if installed);
#   4. the unit keeps every hardening line (a grep list, so none can silently go), and
#      `systemd-analyze verify` / `security --offline` accept it (when systemd-analyze exists);
#   5. as root, when a private mount namespace with overlayfs works: a real `dpkg -i` with every
#      write going to throwaway overlays over /etc, /usr and /var (the host is not touched):
#      the user, modes, enable link, the installed server serving /v1/health as that user with
#      the shipped config, an upgrade, then remove and purge keeping /var/lib/cobinar-phone.
#      Skipped, with a message, otherwise.
# Takes a few seconds; needs dpkg-deb and curl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
say() { echo "check-deb: $*"; }

command -v dpkg-deb >/dev/null || fail "dpkg-deb is not installed"
version=$(sed -nE 's/^project\([a-z_]+ VERSION ([0-9][0-9.]*).*/\1/p' CMakeLists.txt | head -n1)
arch=$(dpkg --print-architecture)
deb=${1:-dist/cobinar-phone_${version}_${arch}.deb}
[ -f "$deb" ] || fail "$deb does not exist (run packaging/build-deb.sh)"
deb=$(readlink -f "$deb")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cobinar-deb-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

# --- 1. control, file list, conffiles, md5sums ------------------------------------------------
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = cobinar-phone ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', CMakeLists.txt says $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', expected $arch"
grep -qE '^libc6 \(>= 2\.[0-9]+\)' <<<"$(field Depends)" || fail "Depends lacks 'libc6 (>= 2.x)': $(field Depends)"
grep -qw adduser <<<"$(field Depends)" || fail "Depends lacks adduser (postinst uses it)"
for f in Maintainer Section Priority Description Installed-Size; do
  [ -n "$(field "$f")" ] || fail "control has no $f"
done
say "OK: control: $(field Package) $(field Version) $(field Architecture), Depends: $(field Depends)"

# "mode owner path" for every entry, e.g. "-rwxr-xr-x root/root ./usr/bin/cobinar-phone".
dpkg-deb --contents "$deb" | awk '{ print $1, $2, $6 }' >"$tmp/contents"
expect() { # mode owner path
  grep -qxF -- "$1 $2 .$3" "$tmp/contents" ||
    fail "$3: expected $1 $2, found: $(grep -F -- " .$3" "$tmp/contents" | head -n1 || echo 'not in the package')"
}
expect -rwxr-xr-x root/root /usr/bin/cobinar-phone
expect -rw-r--r-- root/root /lib/systemd/system/cobinar-phone.service
expect drwxr-x--- root/root /etc/cobinar-phone/
expect -rw-r----- root/root /etc/cobinar-phone/cobinar.toml
expect -rw-r--r-- root/root /usr/share/doc/cobinar-phone/README.md
expect -rw-r--r-- root/root /usr/share/doc/cobinar-phone/copyright
files=$(grep -c '^-' "$tmp/contents")
[ "$files" -eq 5 ] || fail "expected 5 files in the package, found $files: $(grep '^-' "$tmp/contents" | awk '{print $3}' | tr '\n' ' ')"
if grep -v ' root/root ' "$tmp/contents" | grep -q .; then
  fail "entries not owned by root/root: $(grep -v ' root/root ' "$tmp/contents" | head -n3)"
fi
say "OK: contents: 5 files, root/root, binary 0755, config 0640 in a 0750 directory"

dpkg-deb -x "$deb" "$tmp/root"
dpkg-deb -e "$deb" "$tmp/DEBIAN"
[ "$(cat "$tmp/DEBIAN/conffiles")" = /etc/cobinar-phone/cobinar.toml ] ||
  fail "conffiles is not exactly /etc/cobinar-phone/cobinar.toml: $(cat "$tmp/DEBIAN/conffiles")"
(cd "$tmp/root" && md5sum --quiet -c "$tmp/DEBIAN/md5sums") || fail "md5sums do not match the files"
[ "$(wc -l <"$tmp/DEBIAN/md5sums")" -eq 4 ] || fail "md5sums should list the 4 files that are not conffiles"
cmp -s "$tmp/root/lib/systemd/system/cobinar-phone.service" packaging/cobinar-phone.service ||
  fail "the packaged unit differs from packaging/cobinar-phone.service (rebuild the .deb)"
say "OK: conffiles, md5sums"

# --- 2. the binary and the shipped config -----------------------------------------------------
bin=$tmp/root/usr/bin/cobinar-phone
out=$("$bin" version) || fail "$bin version failed"
[ "$(awk '{print $2}' <<<"$out")" = "$version" ] || fail "packaged binary says '$out', package is $version"
mkdir "$tmp/scratch"
"$bin" migrate --config "$tmp/root/etc/cobinar-phone/cobinar.toml" --db "$tmp/scratch/data.sqlite" >/dev/null ||
  fail "the packaged binary rejects the packaged config /etc/cobinar-phone/cobinar.toml"
say "OK: $out; it accepts the shipped config"

# --- 3. maintainer scripts --------------------------------------------------------------------
for script in postinst prerm postrm; do
  s=$tmp/DEBIAN/$script
  [ -x "$s" ] || fail "DEBIAN/$script is missing or not executable"
  [ "$(head -n1 "$s")" = '#!/bin/sh' ] || fail "DEBIAN/$script does not start with #!/bin/sh"
  grep -qx 'set -e' "$s" || fail "DEBIAN/$script has no 'set -e' line"
  sh -n "$s" || fail "DEBIAN/$script: sh -n failed"
  if command -v dash >/dev/null; then dash -n "$s" || fail "DEBIAN/$script: dash -n failed"; fi
  if command -v checkbashisms >/dev/null; then checkbashisms "$s" || fail "DEBIAN/$script: checkbashisms"; fi
done
say "OK: postinst, prerm, postrm: #!/bin/sh, set -e, sh -n"

# --- 4. the unit ------------------------------------------------------------------------------
unit=$tmp/root/lib/systemd/system/cobinar-phone.service
required=(
  'ExecStart=/usr/bin/cobinar-phone serve --config /etc/cobinar-phone/cobinar.toml'
  'ExecReload=/bin/kill -HUP $MAINPID'
  'Restart=on-failure'
  'User=cobinar-phone'
  'Group=cobinar-phone'
  'StateDirectory=cobinar-phone'
  'StateDirectoryMode=0700'
  'UMask=0077'
  'LimitNOFILE=65536'
  'NoNewPrivileges=yes'
  'CapabilityBoundingSet='
  'AmbientCapabilities='
  'ProtectSystem=strict'
  'ProtectHome=yes'
  'PrivateTmp=yes'
  'PrivateDevices=yes'
  'ProtectKernelTunables=yes'
  'ProtectKernelModules=yes'
  'ProtectKernelLogs=yes'
  'ProtectControlGroups=yes'
  'ProtectClock=yes'
  'ProtectHostname=yes'
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
  'RestrictNamespaces=yes'
  'RestrictRealtime=yes'
  'RestrictSUIDSGID=yes'
  'LockPersonality=yes'
  'MemoryDenyWriteExecute=yes'
  'SystemCallArchitectures=native'
  'SystemCallFilter=@system-service'
  'SystemCallFilter=~@privileged @resources'
  'SystemCallErrorNumber=EPERM'
  'WantedBy=multi-user.target'
)
for line in "${required[@]}"; do
  grep -qxF "$line" "$unit" || fail "the unit lacks the line '$line'"
done
# A weakening later in the file would override the line above; allow each key once (except
# SystemCallFilter, which accumulates).
dups=$(grep -E '^[A-Za-z]+=' "$unit" | cut -d= -f1 | grep -v '^SystemCallFilter$' | sort | uniq -d)
[ -z "$dups" ] || fail "the unit sets these keys more than once: $dups"
say "OK: the unit has all ${#required[@]} required lines"

if command -v systemd-analyze >/dev/null && [ -d /lib/systemd/system ] && [ -x /bin/kill ]; then
  # An offline root: the host's units (for the targets) plus the package's files.
  sysroot=$tmp/sysroot
  mkdir -p "$sysroot/lib/systemd" "$sysroot/usr/bin" "$sysroot/bin"
  cp -a /lib/systemd/system "$sysroot/lib/systemd/"
  cp "$unit" "$sysroot/lib/systemd/system/cobinar-phone.service"
  cp "$bin" "$sysroot/usr/bin/cobinar-phone"
  cp /bin/kill "$sysroot/bin/kill"
  status=0
  verify=$(systemd-analyze verify --root="$sysroot" cobinar-phone.service 2>&1) || status=$?
  if [ $status -ne 0 ] || grep -q 'cobinar-phone' <<<"$verify"; then
    fail "systemd-analyze verify: $verify"
  fi
  status=0
  security=$(systemd-analyze security --offline=true --threshold=20 --root="$sysroot" cobinar-phone.service 2>&1) ||
    status=$?
  level=$(grep -oE 'Overall exposure level for cobinar-phone.service: [0-9.]+' <<<"$security" | awk '{print $NF}')
  [ $status -eq 0 ] && [ -n "$level" ] || fail "systemd-analyze security (exposure over 2.0?): $security"
  say "OK: systemd-analyze verify clean; security exposure $level (at most 2.0)"
else
  say "SKIP: systemd-analyze not installed: unit not verified by systemd"
fi

# --- 5. install, run, upgrade, remove, purge in throwaway overlays ----------------------------
install_test() {
  local ov=$tmp/overlay d
  for d in etc usr var; do mkdir -p "$ov/$d/upper" "$ov/$d/work"; done
  cat >"$tmp/install-test.sh" <<'EOF'
set -eu
ov=$1 deb=$2 out=$3
mount --make-rprivate /
for d in etc usr var; do
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$ov/$d/upper,workdir=$ov/$d/work" "/$d"
done
# dpkg must not think systemd runs here (it does not, in this namespace or on a CI box):
# hide /run/systemd/system so the scripts never touch the host's service manager.
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || true
fail() { echo "check-deb: FAIL (install test): $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
dpkg -i "$deb" >"$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log" >&2; fail "dpkg -i"; }
getent passwd cobinar-phone | grep -q ':/var/lib/cobinar-phone:/usr/sbin/nologin$' || fail "no system user cobinar-phone"
[ "$(stat -c '%a %U %G' /var/lib/cobinar-phone)" = "700 cobinar-phone cobinar-phone" ] || fail "/var/lib/cobinar-phone: $(stat -c '%a %U %G' /var/lib/cobinar-phone)"
[ "$(stat -c '%a %U %G' /etc/cobinar-phone)" = "750 root cobinar-phone" ] || fail "/etc/cobinar-phone: $(stat -c '%a %U %G' /etc/cobinar-phone)"
[ "$(stat -c '%a %U %G' /etc/cobinar-phone/cobinar.toml)" = "640 root cobinar-phone" ] || fail "cobinar.toml: $(stat -c '%a %U %G' /etc/cobinar-phone/cobinar.toml)"
[ -L /etc/systemd/system/multi-user.target.wants/cobinar-phone.service ] || fail "not enabled (no multi-user.target.wants link)"
dpkg-query -W -f='${Conffiles}\n' cobinar-phone | grep -q /etc/cobinar-phone/cobinar.toml || fail "conffile not registered"

# The installed server, as the unit runs it (user, umask, config), on a free port.
cd /var/lib/cobinar-phone
(umask 0077; exec setpriv --reuid cobinar-phone --regid cobinar-phone --init-groups \
  /usr/bin/cobinar-phone serve --config /etc/cobinar-phone/cobinar.toml --listen 127.0.0.1:0 \
  >"$out/serve.log" 2>&1) &
pid=$!
port=""
for _ in $(seq 1 50); do
  port=$(grep -oE '127\.0\.0\.1:[0-9]+' "$out/serve.log" | head -n1 | sed 's/.*://' || true)
  [ -n "$port" ] && [ "$port" != 0 ] && break
  kill -0 $pid 2>/dev/null || { cat "$out/serve.log" >&2; fail "the installed server exited"; }
  sleep 0.1
done
code=""
for _ in $(seq 1 50); do
  code=$(curl -s -o "$out/health.json" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/v1/health" || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
kill -TERM $pid; status=0; wait $pid || status=$?
[ "$code" = 200 ] || { cat "$out/serve.log" >&2; fail "GET /v1/health on the installed server: ${code:-no answer}"; }
[ $status -eq 0 ] || { cat "$out/serve.log" >&2; fail "the installed server exited $status after SIGTERM"; }
[ "$(stat -c '%a %U' /var/lib/cobinar-phone/data.sqlite)" = "600 cobinar-phone" ] || fail "data.sqlite: $(stat -c '%a %U' /var/lib/cobinar-phone/data.sqlite)"
[ "$(stat -c '%a %U' /var/lib/cobinar-phone/data.sqlite.key)" = "600 cobinar-phone" ] || fail "data.sqlite.key: $(stat -c '%a %U' /var/lib/cobinar-phone/data.sqlite.key)"
cd /

# Upgrade (same version again), with a locally edited conffile: kept, no prompt.
echo '# local edit' >>/etc/cobinar-phone/cobinar.toml
dpkg -i --force-confold "$deb" >>"$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log" >&2; fail "dpkg -i (upgrade)"; }
grep -q '^# local edit$' /etc/cobinar-phone/cobinar.toml || fail "the upgrade lost a local edit of the conffile"
[ "$(stat -c '%G' /etc/cobinar-phone/cobinar.toml)" = cobinar-phone ] || fail "the upgrade reset the config's group"

dpkg -r cobinar-phone >>"$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log" >&2; fail "dpkg -r"; }
[ ! -e /usr/bin/cobinar-phone ] || fail "dpkg -r left /usr/bin/cobinar-phone"
[ -f /etc/cobinar-phone/cobinar.toml ] || fail "dpkg -r removed the conffile"
dpkg -P cobinar-phone >>"$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log" >&2; fail "dpkg -P"; }
[ ! -e /etc/cobinar-phone ] || fail "dpkg -P left /etc/cobinar-phone"
[ -f /var/lib/cobinar-phone/data.sqlite ] && [ -f /var/lib/cobinar-phone/data.sqlite.key ] || fail "dpkg -P removed the data"
getent passwd cobinar-phone >/dev/null || fail "dpkg -P removed the user"
[ ! -e /etc/systemd/system/multi-user.target.wants/cobinar-phone.service ] || fail "dpkg -P left the enable link"
[ ! -L /etc/systemd/system/cobinar-phone.service ] || fail "dpkg -P left the unit masked"
EOF
  unshare --mount --fork sh "$tmp/install-test.sh" "$ov" "$deb" "$tmp"
}

if [ "$(id -u)" -ne 0 ]; then
  say "SKIP: install test (needs root for a private mount namespace; the checks above ran)"
elif ! command -v unshare >/dev/null || ! command -v setpriv >/dev/null || ! command -v curl >/dev/null; then
  say "SKIP: install test (needs unshare, setpriv and curl)"
elif ! mkdir -p "$tmp/probe/u" "$tmp/probe/w" || ! unshare --mount --fork sh -c 'mount --make-rprivate / &&
       mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/u,workdir=$1/w" /etc' sh "$tmp/probe" 2>/dev/null; then
  say "SKIP: install test (overlayfs in a private mount namespace is not permitted here)"
else
  install_test
  say "OK: install test: dpkg -i created the user, state dir 0700, config 0640 root:cobinar-phone, enable link;"
  say "    the installed server served /v1/health as cobinar-phone (data.sqlite and key 0600) and stopped on SIGTERM;"
  say "    upgrade kept a local config edit; remove kept the conffile; purge removed config and enable link, kept data and user"
fi
say "PASS: $deb"
