#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server.
#
#   scripts/with-postgres.sh .venv/bin/pytest -x
#
# Starts a private cluster in a temporary folder (127.0.0.1 only, first free port
# from 54329 up, durability switched off for speed), creates role and database
# `app` (password `app`, role may create the test databases), exports
# DATABASE_URL=postgres://app:app@127.0.0.1:PORT/app, runs the command, then always
# stops the server and removes the folder. Exits with the command's exit code.
#
# Needs Debian's `postgresql` package; installs it when missing and run as root.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

is_root=0
[[ "$(id -u)" == 0 ]] && is_root=1

find_initdb() {
    # Newest installed major version first.
    compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true
}

if [[ -z "$(find_initdb)" ]]; then
    if [[ $is_root == 1 ]]; then
        echo "with-postgres: installing Debian's postgresql package" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null
    else
        echo "with-postgres: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)." >&2
        echo "with-postgres: install it with: sudo apt-get install postgresql" >&2
        exit 1
    fi
fi

initdb_path="$(find_initdb)"
if [[ -z "$initdb_path" ]]; then
    echo "with-postgres: no initdb found after installing postgresql" >&2
    exit 1
fi
bindir="$(dirname "$initdb_path")"

# Run a PostgreSQL server binary as `postgres` when root (it refuses to run as root),
# from a folder that user can read (the caller's may be /root/...).
as_pg() {
    if [[ $is_root == 1 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/with-postgres.XXXXXX")"
data="$tmp/data"
log="$tmp/postgres.log"
started=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $started == 1 ]]; then
        as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 \
            || as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 \
            || true
    fi
    rm -rf -- "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ $is_root == 1 ]]; then
    chown postgres:postgres "$tmp"
fi
chmod 700 "$tmp"

# Local (socket) connections are trusted, for the set-up below; TCP connections
# need the password, as in production.
as_pg "$bindir/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
    cat "$tmp/initdb.log" >&2
    exit 1
}

# Appending keeps the file's owner (postgres when root).
cat >>"$data/postgresql.conf" <<EOF

# with-postgres.sh: private, throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

# Try ports from 54329 up; also retry when the server fails to start (a race with
# another process taking the port between the check and the start).
port=54329
last_port=$((port + 100))
while :; do
    if ((port > last_port)); then
        echo "with-postgres: no free port in 54329-$last_port, or the server does not start:" >&2
        tail -n 20 "$log" >&2 2>/dev/null || true
        exit 1
    fi
    if port_in_use "$port"; then
        port=$((port + 1))
        continue
    fi
    started=1 # from here on, cleanup tries to stop a server (harmless if none runs)
    if as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port" start >/dev/null 2>"$tmp/pg_ctl.err"; then
        break
    fi
    # A server that failed to start has left nothing running; try the next port.
    echo "with-postgres: the server did not start on port $port; trying the next one" >&2
    port=$((port + 1))
done

psql_admin=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp" -p "$port" -U postgres -d postgres)
"${psql_admin[@]}" -c "CREATE ROLE app LOGIN PASSWORD 'app' CREATEDB;" >/dev/null
"${psql_admin[@]}" -c "CREATE DATABASE app OWNER app;" >/dev/null

export DATABASE_URL="postgres://app:app@127.0.0.1:$port/app"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port; DATABASE_URL=$DATABASE_URL" >&2

set +e
"$@"
rc=$?
set -e
exit "$rc"
