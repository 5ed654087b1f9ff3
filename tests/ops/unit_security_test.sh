#!/usr/bin/env bash
# The shipped systemd units stay hardened: `systemd-analyze security --offline=true` rates each
# at an overall exposure of at most 2.0, and the directives the ward's hardening measure names
# are present. Prints the figures.
#   unit_security_test.sh DEPLOY_DIR
set -euo pipefail
deploy=${1:?usage: unit_security_test.sh DEPLOY_DIR}
limit=2.0
fail=0

require() { # unit directive-line-regex
  if ! grep -Eq "^$2\$" "$deploy/$1"; then
    echo "FAIL: $1 lacks a line matching '$2'"
    fail=1
  fi
}

for unit in anshin-server.service anshin-agent.service; do
  out=$(systemd-analyze security --offline=true --no-pager "$deploy/$unit" 2>&1) || true
  figure=$(sed -n "s/.*Overall exposure level for $unit: \([0-9][0-9.]*\).*/\1/p" <<<"$out")
  if [ -z "$figure" ]; then
    echo "FAIL: no exposure figure for $unit:"
    echo "$out"
    fail=1
    continue
  fi
  echo "$unit: overall exposure $figure (limit $limit)"
  if awk -v f="$figure" -v l="$limit" 'BEGIN { exit !(f > l) }'; then
    echo "FAIL: $unit exposure $figure is above $limit; what systemd-analyze flags:"
    grep '✗' <<<"$out" || true
    fail=1
  fi
  for d in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
           'CapabilityBoundingSet=' 'AmbientCapabilities=' 'RestrictAddressFamilies=.+' \
           'SystemCallFilter=@system-service' 'UMask=0077'; do
    require "$unit" "$d"
  done
done

# Only the state directory is writable.
require anshin-server.service 'ReadWritePaths=/var/lib/anshin'
require anshin-agent.service 'ReadWritePaths=/var/lib/anshin-agent'
for unit in anshin-server.service anshin-agent.service; do
  if [ "$(grep -c '^ReadWritePaths=' "$deploy/$unit")" != 1 ]; then
    echo "FAIL: $unit has more than one ReadWritePaths= line"
    fail=1
  fi
done
# The server sees no devices; the agent only the reader (USB and USB serial), nothing else.
require anshin-server.service 'PrivateDevices=yes'
require anshin-agent.service 'DevicePolicy=closed'
allowed=$(grep '^DeviceAllow=' "$deploy/anshin-agent.service" | sort | tr '\n' ' ')
expected='DeviceAllow=char-ttyACM rw DeviceAllow=char-ttyUSB rw DeviceAllow=char-usb_device rw '
if [ "$allowed" != "$expected" ]; then
  echo "FAIL: the agent's DeviceAllow= lines are '$allowed', expected '$expected'"
  fail=1
fi

if ((fail)); then exit 1; fi
echo "unit security: both units at or below $limit"
