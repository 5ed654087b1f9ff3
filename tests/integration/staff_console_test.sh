#!/bin/bash
# The staff console served by the real anshin-server: a deployment made by anshin-admin (a
# call-centre account whose password comes from stdin), server.staff_listen on 127.0.0.1:0, the
# port read from --ready-file's staff_port, and curl over TLS verified against the deployment
# CA: the login form's headers and cookie, a failed and a good login, a page, a CSRF-less POST.
# Usage: staff_console_test.sh ANSHIN_ADMIN ANSHIN_SERVER
set -euo pipefail
admin=$1 server=$2
dir=$(mktemp -d /tmp/anshin-staff-console.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/server.log" ] && tail -20 "$dir/server.log" >&2; exit 1; }

home=$dir/home
"$admin" --home "$home" init --server-san 127.0.0.1 </dev/null >/dev/null
"$admin" --home "$home" facility add --code hikari-1 --name 光が丘第一学童クラブ >/dev/null
"$admin" --home "$home" child add --facility hikari-1 --name "練馬 さくら" --number 2026-0001 >/dev/null
printf '%s\n' 'a long enough password' |
  "$admin" --home "$home" staff add --name abe --role callcenter >/dev/null
sed -i 's/^agents_listen = .*/agents_listen = "127.0.0.1:0"/;
        s/^public_listen = .*/public_listen = "127.0.0.1:0"\nstaff_listen = "127.0.0.1:0"/' \
  "$home/server.toml"

"$server" --config "$home/server.toml" --ready-file "$dir/ready.json" >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 150); do [ -s "$dir/ready.json" ] && break; sleep 0.1; done
[ -s "$dir/ready.json" ] || fail "no ready file"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["staff_port"])' "$dir/ready.json")
url=https://127.0.0.1:$port
c() { curl -sS --cacert "$home/pki/ca.crt" -b "$dir/jar" -c "$dir/jar" "$@"; }

c -D "$dir/h1" -o "$dir/login.html" "$url/login"
grep -q '^HTTP/1.1 200' "$dir/h1" || fail "GET /login"
for h in "Content-Security-Policy: default-src 'none'; style-src 'self'" "X-Frame-Options: DENY" \
         "X-Content-Type-Options: nosniff" "Strict-Transport-Security: max-age=31536000" \
         "Cache-Control: no-store" "Secure; HttpOnly; SameSite=Strict; Path=/"; do
  grep -qF "$h" "$dir/h1" || fail "header missing: $h"
done
csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$dir/login.html" | sed 's/.*value="//; s/"$//')
[ ${#csrf} = 64 ] || fail "no CSRF token in the form"

code=$(c -o /dev/null -w '%{http_code}' --data-urlencode name=abe --data-urlencode password=wrong-password-here --data-urlencode "csrf=$csrf" "$url/login")
[ "$code" = 401 ] || fail "a wrong password answered $code"
c -o "$dir/login.html" "$url/login"
csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$dir/login.html" | sed 's/.*value="//; s/"$//')
c -D "$dir/h2" -o /dev/null --data-urlencode name=abe --data-urlencode 'password=a long enough password' --data-urlencode "csrf=$csrf" "$url/login"
grep -q '^HTTP/1.1 303' "$dir/h2" || fail "login not accepted"
grep -q '__Host-anshin_session=' "$dir/h2" || fail "no session cookie"

code=$(c -o "$dir/children.html" -w '%{http_code}' "$url/children?q=2026")
[ "$code" = 200 ] || fail "search answered $code"
grep -q '練馬 さくら' "$dir/children.html" || fail "search did not find the child"
code=$(c -o /dev/null -w '%{http_code}' -X POST -d '' "$url/logout")
[ "$code" = 403 ] || fail "a logout without CSRF token answered $code"
code=$(c -o /dev/null -w '%{http_code}' "$url/children")
[ "$code" = 200 ] || fail "the session did not survive the refused logout ($code)"
echo "staff console: ok (port $port)"
