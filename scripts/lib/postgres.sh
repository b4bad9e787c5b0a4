# A temporary PostgreSQL cluster for the tests and benchmarks, run as the unprivileged `postgres` user (initdb
# refuses root): `start_test_postgres` sets TEST_POSTGRES_URL (trust auth on 127.0.0.1, a free port, its socket
# and data under one /tmp folder); `stop_test_postgres` stops it and removes the folder. With TEST_POSTGRES_SSL=1 the
# cluster also accepts TLS (ssl=on, a self-signed certificate made by openssl in its data folder).
# shellcheck shell=bash

TEST_POSTGRES_DIR=""
TEST_POSTGRES_URL=""

# Returns 1 (with a loud message) only when Debian's postgresql package cannot be installed.
start_test_postgres() {
    if ! ensure_packages postgresql; then
        log "!!!!! PostgreSQL could not be installed: the PostgreSQL tests are SKIPPED !!!!!"
        return 1
    fi
    local bin
    bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -1)
    [ -x "$bin/initdb" ] || { log "no initdb under /usr/lib/postgresql"; return 2; }
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
    TEST_POSTGRES_DIR=$(mktemp -d /tmp/assets-postgres.XXXXXX)
    chown postgres "$TEST_POSTGRES_DIR"
    chmod 0755 "$TEST_POSTGRES_DIR"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres() { (cd / && setpriv --reuid=postgres --regid="$(id -g postgres)" --clear-groups -- "$@"); }
    as_postgres "$bin/initdb" -D "$TEST_POSTGRES_DIR/data" --auth=trust --username=assets --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$TEST_POSTGRES_DIR/initdb.log" 2>&1 \
        || { cat "$TEST_POSTGRES_DIR/initdb.log" >&2; return 2; }
    local ssl_options=""
    if [ "${TEST_POSTGRES_SSL:-}" = "1" ]; then
        ensure_packages openssl || return 2
        # server.crt and server.key are ssl_cert_file's and ssl_key_file's defaults; the key must be the server's, 0600.
        as_postgres openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj /CN=127.0.0.1 -keyout "$TEST_POSTGRES_DIR/data/server.key" -out "$TEST_POSTGRES_DIR/data/server.crt" \
            >"$TEST_POSTGRES_DIR/openssl.log" 2>&1 || { cat "$TEST_POSTGRES_DIR/openssl.log" >&2; return 2; }
        chmod 0600 "$TEST_POSTGRES_DIR/data/server.key"
        ssl_options="-c ssl=on"
    fi
    # fsync off: a throwaway cluster, and tests on two shared cores.
    as_postgres "$bin/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -l "$TEST_POSTGRES_DIR/server.log" -w -t 60 \
        -o "-p $port -k $TEST_POSTGRES_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 ${TEST_POSTGRES_OPTIONS:--c fsync=off} $ssl_options" \
        start >/dev/null || { cat "$TEST_POSTGRES_DIR/server.log" >&2; return 2; }
    TEST_POSTGRES_BIN=$bin
    TEST_POSTGRES_URL="postgresql://assets@127.0.0.1:$port/postgres"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $TEST_POSTGRES_URL (data $TEST_POSTGRES_DIR)"
}

stop_test_postgres() {
    [ -n "$TEST_POSTGRES_DIR" ] || return 0
    (cd / && setpriv --reuid=postgres --regid="$(id -g postgres)" --clear-groups -- \
        "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m immediate -w stop >/dev/null 2>&1) || true
    rm -rf "$TEST_POSTGRES_DIR"
    TEST_POSTGRES_DIR=""
}
