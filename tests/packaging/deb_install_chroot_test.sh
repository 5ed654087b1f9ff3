#!/usr/bin/env bash
# Installs the Debian packages (CPack, packaging/) into a fresh Debian 12 chroot and checks
# them as an operator's machine would see them:
#   1. dpkg -i of anshin-server, anshin-agent, anshin-admin; apt-get -f install resolves their
#      dependencies (dpkg-shlibdeps) from the Debian mirror the host's apt uses;
#   2. files, conffiles, system users, owners and modes; the units pass `systemd-analyze
#      verify` inside the chroot (systemd cannot run there, so the services are not started);
#      every binary's --help and man page; anshin-admin init as the service user in the state
#      directory;
#   3. dpkg -r keeps configuration and state, dpkg -P removes them (nothing left in /etc/anshin
#      or /var/lib/anshin*), the system users are kept (Debian practice, see the postrm).
# The chroot is debootstrapped once (minbase + systemd, man-db) and cached as a tarball under
# BUILD/packaging-cache/, so later runs only unpack it; downloaded .debs are cached there too.
# Exits 77 (ctest: skipped) only when no Debian mirror can be reached.
#   deb_install_chroot_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?usage: deb_install_chroot_test.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: deb_install_chroot_test.sh SOURCE_DIR BUILD_DIR}
suite=bookworm
cache=$build/packaging-cache
started=$(date +%s)
phase_start=$started
phase() { # name: prints the time the previous phase took
  local now
  now=$(date +%s)
  echo "== $1 (+$((now - phase_start)) s)"
  phase_start=$now
}

if [ "$(id -u)" -ne 0 ]; then
  echo "deb install test: needs root (debootstrap, chroot, dpkg)" >&2
  exit 1
fi
for tool in debootstrap cpack curl chroot; do
  command -v "$tool" >/dev/null || { echo "deb install test: $tool is missing (scripts/setup)" >&2; exit 1; }
done

# --- the mirror: the host apt's Debian archive ------------------------------------------
# ANSHIN_APT_DIR (default /etc/apt) lets a test of this test point it at other sources.
apt_dir=${ANSHIN_APT_DIR:-/etc/apt}
mirrors() {
  local f
  for f in "$apt_dir/sources.list" "$apt_dir"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?):\/\//) { print $i; break } }' "$f"
  done
  for f in "$apt_dir"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
  done
}
mirror=
for m in $(mirrors | grep -v -- '-security' | awk '!seen[$0]++'); do
  if curl -sf --max-time 20 -o /dev/null "${m%/}/dists/$suite/Release"; then
    mirror=${m%/}
    break
  fi
done
if [ -z "$mirror" ]; then
  echo "SKIPPED: no Debian mirror from $apt_dir/sources.list* serves dists/$suite/Release" \
       "(tried: $(mirrors | tr '\n' ' ')); cannot debootstrap a chroot"
  exit 77
fi
echo "mirror: $mirror"

# --- the packages ----------------------------------------------------------------------
work=$(mktemp -d /tmp/anshin-deb-test.XXXXXX)
root=$work/root
cleanup() {
  for m in proc sys; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m" || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

phase "building the packages (cpack)"
cpack --config "$build/CPackConfig.cmake" -B "$work/pkgs" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; exit 1; }
debs=()
for p in anshin-server anshin-agent anshin-admin; do
  f=$(ls "$work/pkgs/${p}_"*.deb 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "FAIL: cpack made no ${p}_<version>_<arch>.deb"; ls "$work/pkgs"; exit 1; }
  [[ $(basename "$f") =~ ^${p}_[0-9][0-9.]*_$(dpkg --print-architecture)\.deb$ ]] ||
    { echo "FAIL: $(basename "$f") is not named ${p}_<version>_<arch>.deb"; exit 1; }
  echo "$(basename "$f"): $(du -k "$f" | cut -f1) KiB"
  debs+=("$f")
done

# --- the chroot ------------------------------------------------------------------------
mkdir -p "$cache/apt-archives"
# systemd for systemd-analyze verify; man-db so that verify can resolve the units'
# Documentation=man:... (the packages' man pages).
include=systemd,man-db
tarball=$cache/debian12-minbase-${include//,/-}.tar.gz
if [ ! -s "$tarball" ]; then
  phase "debootstrap --variant=minbase $suite (first run; cached afterwards)"
  if ! debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" \
      >"$work/debootstrap.log" 2>&1; then
    tail -30 "$work/debootstrap.log"
    echo "FAIL: debootstrap failed although $mirror is reachable"
    exit 1
  fi
  chroot "$root" apt-get clean
  tar --numeric-owner -C "$root" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
else
  phase "unpacking the cached chroot $tarball"
  mkdir -p "$root"
  tar --numeric-owner -C "$root" -xzf "$tarball"
fi
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d"
cp "$cache/apt-archives/"*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive LIBNFC_AUTO_SCAN=false "$@"; }

fail=0
check() { # description command...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
stat_is() { # path "owner:group mode"
  local got
  got=$(in_root stat -c '%U:%G %a' "$1" 2>&1)
  [ "$got" = "$2" ] || { echo "  $1 is '$got', expected '$2'"; return 1; }
}
absent() { [ ! -e "$root$1" ] || { echo "  $1 still exists: $(ls -la "$root$1" | head -5)"; return 1; }; }
contains() { grep -q -- "$2" <<<"$1" || { echo "  no '$2' in: $1"; return 1; }; }
present() { [ -e "$root$1" ] || { echo "  $1 is missing"; return 1; }; }

# --- install ---------------------------------------------------------------------------
phase "dpkg -i, then apt-get -f install for the dependencies"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
in_root apt-get -qq -o Acquire::Retries=3 update
in_debs=()
for f in "${debs[@]}"; do in_debs+=("/tmp/debs/$(basename "$f")"); done
if in_root dpkg -i "${in_debs[@]}" >"$work/dpkg-i.log" 2>&1; then
  echo "dpkg -i: every dependency was already there"
elif grep -q 'dependency problems' "$work/dpkg-i.log"; then
  echo "dpkg -i left dependencies to resolve:" \
    "$(grep -o 'depends on [^;]*' "$work/dpkg-i.log" | sed 's/depends on //' | sort -u | tr '\n' ' ')"
else
  cat "$work/dpkg-i.log"
  echo "FAIL: dpkg -i failed for another reason than missing dependencies"
  exit 1
fi
in_root apt-get -f install -y -qq --no-install-recommends -o Acquire::Retries=3 >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; echo "FAIL: apt-get -f install"; exit 1; }
cp -n "$root/var/cache/apt/archives/"*.deb "$cache/apt-archives/" 2>/dev/null || true
for p in anshin-server anshin-agent anshin-admin; do
  check "$p is installed" test "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' "$p")" = "ii "
done
in_root dpkg-query -W -f='${Package} depends on: ${Depends}\n' anshin-server anshin-agent anshin-admin

phase "files, users, owners and modes"
for b in anshin-server anshin-agent anshin-admin; do
  check "/usr/bin/$b root:root 755" stat_is "/usr/bin/$b" "root:root 755"
  check "man page of $b" present "/usr/share/man/man1/$b.1.gz"
  check "man page of $b is roff" sh -c "gzip -dc '$root/usr/share/man/man1/$b.1.gz' | grep -q '^\.TH'"
  check "copyright of $b" present "/usr/share/doc/$b/copyright"
done
check "the server unit" present /lib/systemd/system/anshin-server.service
check "the agent unit" present /lib/systemd/system/anshin-agent.service
check "the udev rule" present /lib/udev/rules.d/99-anshin-pn53x.rules
check "the Prometheus rules" present /usr/share/anshin/prometheus/alerts.yml
check "the Grafana dashboard" present /usr/share/anshin/grafana/anshin.json
check "server.toml is a conffile" sh -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' anshin-server | grep -q ' /etc/anshin/server.toml '"
check "agent.toml is a conffile" sh -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' anshin-agent | grep -q ' /etc/anshin/agent/agent.toml '"
check "/etc/anshin root:root 755" stat_is /etc/anshin "root:root 755"
check "/etc/anshin/server.toml root:anshin 640" stat_is /etc/anshin/server.toml "root:anshin 640"
check "/etc/anshin/agent root:anshin-agent 750" stat_is /etc/anshin/agent "root:anshin-agent 750"
check "/etc/anshin/agent/agent.toml root:anshin-agent 640" stat_is /etc/anshin/agent/agent.toml "root:anshin-agent 640"
check "/var/lib/anshin anshin:anshin 750" stat_is /var/lib/anshin "anshin:anshin 750"
check "/var/lib/anshin-agent anshin-agent:anshin-agent 750" stat_is /var/lib/anshin-agent "anshin-agent:anshin-agent 750"
for u in anshin anshin-agent; do
  entry=$(in_root getent passwd "$u" || true)
  check "system user $u exists" test -n "$entry"
  IFS=: read -r _ _ uid _ _ home shell <<<"$entry"
  check "$u is a system user (uid $uid < 1000)" test "${uid:-1000}" -lt 1000
  check "$u has no login shell ($shell)" test "$shell" = /usr/sbin/nologin
  check "$u's home is its state directory ($home)" test "$home" = "/var/lib/$u"
  check "group $u exists" sh -c "chroot '$root' getent group '$u' >/dev/null"
done
check "the packaged server.toml uses the state directory" \
  grep -q '^database = "/var/lib/anshin/anshin.db"' "$root/etc/anshin/server.toml"

phase "systemd-analyze verify and security in the chroot"
# Inside the chroot systemd is not PID 1, so the services cannot be started; verify loads the
# units as systemd would (syntax, directives, ExecStart present and executable, targets).
if out=$(in_root systemd-analyze verify /lib/systemd/system/anshin-server.service \
    /lib/systemd/system/anshin-agent.service 2>&1); then
  if [ -n "$out" ]; then echo "$out"; fi
  check "systemd-analyze verify: no complaints" test -z "$out"
else
  echo "$out"
  check "systemd-analyze verify" false
fi
for u in anshin-server anshin-agent; do
  figure=$(in_root systemd-analyze security --offline=true --no-pager "/lib/systemd/system/$u.service" 2>&1 |
    sed -n "s/.*Overall exposure level for $u.service: \([0-9.]*\).*/\1/p")
  echo "$u.service installed: exposure ${figure:-?}"
  check "$u exposure at most 2.0" awk -v f="${figure:-99}" 'BEGIN { exit !(f <= 2.0) }'
done

phase "the installed binaries"
for b in anshin-server anshin-agent anshin-admin; do
  check "$b --help" sh -c "chroot '$root' env LIBNFC_AUTO_SCAN=false /usr/bin/$b --help >/dev/null"
done
# The state directory works for its user: init as anshin creates the deployment there.
check "anshin-admin init as anshin in /var/lib/anshin" \
  sh -c "chroot '$root' runuser -u anshin -- /usr/bin/anshin-admin --home /var/lib/anshin init --server-san anshin.test >'$work/init.log' 2>&1"
check "the database belongs to anshin" sh -c "chroot '$root' stat -c %U /var/lib/anshin/anshin.db | grep -qx anshin"
# The packaged agent.toml is read and every missing piece of the bundle is named at once.
agent_check=$(in_root runuser -u anshin-agent -- /usr/bin/anshin-agent --config /etc/anshin/agent/agent.toml --check-config 2>&1 || true)
for key in agent.card_key uplink.cert uplink.key uplink.ca; do
  check "--check-config on the packaged agent.toml names $key" contains "$agent_check" "^  $key:"
done

phase "dpkg -r keeps configuration and state; dpkg -P removes them"
in_root dpkg -r anshin-server anshin-agent anshin-admin >"$work/remove.log" 2>&1 ||
  { cat "$work/remove.log"; check "dpkg -r" false; }
check "binaries removed" absent /usr/bin/anshin-server
check "units removed" absent /lib/systemd/system/anshin-agent.service
check "udev rule removed" absent /lib/udev/rules.d/99-anshin-pn53x.rules
check "conffiles kept after remove" present /etc/anshin/server.toml
check "database kept after remove" present /var/lib/anshin/anshin.db
in_root dpkg -P anshin-server anshin-agent anshin-admin >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; check "dpkg -P" false; }
check "nothing left in /etc/anshin" absent /etc/anshin
check "/var/lib/anshin removed" absent /var/lib/anshin
check "/var/lib/anshin-agent removed" absent /var/lib/anshin-agent
check "no statoverride left" sh -c "! chroot '$root' dpkg-statoverride --list | grep anshin"
check "no dpkg record left" sh -c "! chroot '$root' dpkg-query -W 'anshin*' 2>/dev/null | grep ."
# /var/cache/man holds man-db's own formatted copies of the pages (made when verify ran man);
# man-db prunes them itself.
leftovers=$(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./tmp/debs \
  -o -path ./var/cache/man \) -prune -o -name '*anshin*' -print)
check "no file named *anshin* left (${leftovers:-none})" test -z "$leftovers"
for u in anshin anshin-agent; do
  check "system user $u kept after purge (Debian practice)" sh -c "chroot '$root' getent passwd '$u' >/dev/null"
done

phase "done"
echo "deb install test: $(( $(date +%s) - started )) s in all"
if ((fail)); then exit 1; fi
echo "deb install test: passed"
