# Shared by deploy/local/run.sh (run the system) and tests/run.sh (run the
# tests): Debian packages, the build, and a private PostgreSQL cluster.
# Source it; it defines functions and sets nothing else but the phase
# times of `timed`.

NEWSGRID_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Debian packages the build, the tests and the local run need.
NEWSGRID_PACKAGES=(
  build-essential cmake pkg-config
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev grpc-proto
  golang-github-gogo-googleapis-dev libabsl-dev libpqxx-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev openssl nlohmann-json3-dev libconcurrentqueue-dev
  postgresql-15 postgresql-client-15
  python3-grpcio python3-protobuf python3-yaml python3-jsonschema
  util-linux procps
  clang libclang-rt-14-dev
  libcmark-dev libgumbo-dev libicu-dev libcpp-httplib-dev libmstch-dev
  chromium chromium-driver python3-selenium nginx-light wrk
)

log() { printf '\033[1m[newsgrid]\033[0m %s\n' "$*" >&2; }

ensure_packages() { install_missing "${NEWSGRID_PACKAGES[@]}"; }

# install_missing PACKAGE...: installs those not installed yet (and kubectl).
install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # kubectl (for the manifest checks): the machine's own if it has one (the
  # cpp image ships Google's `kubectl` package), else Debian's.
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing Debian packages; install them with:"
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
}

# timed "phase name" command...: runs it and notes how long it took;
# summary prints the notes (the scripts call it on exit).
TIMES=()
RUN_START=$SECONDS
timed() {
  local name=$1 t0=$SECONDS; shift
  "$@"
  TIMES+=("$(printf '%-32s %5d s' "$name" $((SECONDS - t0)))")
  log "$name took $((SECONDS - t0)) s"
}
summary() {
  [ ${#TIMES[@]} -gt 0 ] || return 0
  log "phases:"; printf '  %s\n' "${TIMES[@]}" >&2
  log "total $((SECONDS - RUN_START)) s"
}

# build BUILD_DIR [extra cmake args...]
build() {
  local dir=$1; shift
  cmake -S "$NEWSGRID_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

# A free TCP port on loopback.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Runs a command as the cluster's owner: `postgres` when we are root
# (initdb refuses root), ourselves otherwise.
as_pg_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start [port]: initdb a fresh cluster under a new temp folder (owned by
# the cluster owner, so it can enter it even when the checkout is under
# /root) and start it on 127.0.0.1 and a unix socket. Sets PG_DIR, PG_PORT,
# PG_SOCKET, PG_DSN (key=value, superuser `postgres`, database `postgres`).
pg_start() {
  PG_PORT=${1:-$(free_port)}
  PG_DIR=$(mktemp -d /tmp/newsgrid-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  mkdir -p "$PG_DIR/data" "$PG_DIR/socket"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PG_DIR"
  as_pg_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  PG_SOCKET=$PG_DIR/socket
  # setsid: Ctrl-C in the terminal must not stop PostgreSQL before the
  # services have drained; pg_stop stops it last.
  as_pg_owner setsid "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c max_connections=400 ${PG_EXTRA_OPTS:-}" start >/dev/null \
    || { cat "$PG_DIR/postgres.log" >&2; return 1; }
  PG_DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
  log "PostgreSQL 15 running on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || return 0
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
