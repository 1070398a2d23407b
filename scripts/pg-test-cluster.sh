#!/usr/bin/env bash
# pg-test-cluster.sh: a throwaway PostgreSQL cluster for the tests.
#
#   scripts/pg-test-cluster.sh start [DIR]   initdb in DIR, start on a free loopback port, print the URL
#   scripts/pg-test-cluster.sh url [DIR]     print the URL of the cluster in DIR
#   scripts/pg-test-cluster.sh stop [DIR]    stop the cluster and remove DIR
#   scripts/pg-test-cluster.sh pause [DIR]   stop the server (fast shutdown), keep DIR (restart tests)
#   scripts/pg-test-cluster.sh resume [DIR]  start the server of DIR again, on the same port
#   scripts/pg-test-cluster.sh run CMD...    start a cluster in a new temporary directory, run CMD with
#                                            IAMD_TEST_STORE and IAMD_TEST_DATABASE_URL_BASE set to its
#                                            URL (and IAMD_PG_BIN to the server's bin directory), then
#                                            stop and remove it; exits with CMD's status
#
# DIR defaults to $IAMD_PG_CLUSTER_DIR, else /tmp/iamd-pg-test-cluster. The URL
# is the maintenance database (postgres) as the superuser postgres, with trust
# authentication on 127.0.0.1 only: for tests, never for data.
#
# initdb refuses to run as root: as root, the cluster runs as the system user
# `postgres` (created by Debian's postgresql package; created here, as a
# system user without login, when missing). Durability is traded for speed
# (fsync, synchronous_commit and full_page_writes off): a crash loses the
# cluster, which is thrown away anyway.
set -euo pipefail

die() { echo "pg-test-cluster: $*" >&2; exit 1; }

# The server binaries: $IAMD_PG_BIN, else the newest /usr/lib/postgresql/*/bin (Debian), else initdb's on PATH.
pg_bin() {
  if [[ -n ${IAMD_PG_BIN:-} ]]; then
    echo "$IAMD_PG_BIN"
    return
  fi
  local newest=""
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x $dir/initdb ]] && newest=$dir
  done
  if [[ -z $newest ]] && command -v initdb >/dev/null 2>&1; then
    newest=$(dirname "$(command -v initdb)")
  fi
  [[ -n $newest ]] || die "no PostgreSQL server found (install Debian's postgresql, or set IAMD_PG_BIN)"
  echo "$newest"
}

# The user the server runs as: the caller, or `postgres` when the caller is root.
cluster_user() {
  if [[ $(id -u) -ne 0 ]]; then
    id -un
    return
  fi
  if ! id -u postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres \
      || die "cannot create the system user postgres"
  fi
  echo postgres
}

# Runs a command as the cluster's user.
as_user() {
  local user=$1
  shift
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# A loopback TCP port nobody listens on (bash's /dev/tcp connects or fails).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free loopback port found"
}

default_dir() { echo "${IAMD_PG_CLUSTER_DIR:-/tmp/iamd-pg-test-cluster}"; }

cmd_url() {
  local dir=${1:-$(default_dir)}
  [[ -f $dir/port ]] || die "no cluster in $dir"
  echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
}

# Starts the server of the cluster in DIR on PORT (and waits until it accepts connections).
start_server() {
  local bin=$1 user=$2 dir=$3 port=$4
  as_user "$user" "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=30 \
    --options="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir \
               -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null 2>&1
}

cmd_start() {
  local dir=${1:-$(default_dir)}
  local bin user
  bin=$(pg_bin)
  user=$(cluster_user)
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir" 2>/dev/null) ]]; then
    die "$dir exists and is not empty (stop it first)"
  fi
  mkdir -p "$dir"
  chmod 0755 "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir"
  as_user "$user" "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local port started=0
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if start_server "$bin" "$user" "$dir" "$port"; then
      started=1
      break
    fi
    # Most likely the port was taken in between: try another one.
    as_user "$user" "$bin/pg_ctl" --pgdata="$dir/data" stop --mode=immediate >/dev/null 2>&1 || true
  done
  if ((started == 0)); then
    tail -n 20 "$dir/server.log" >&2 || true
    die "the server did not start"
  fi
  echo "$port" >"$dir/port"
  cmd_url "$dir"
}

cmd_stop() {
  local dir=${1:-$(default_dir)}
  [[ -d $dir ]] || return 0
  if [[ -f $dir/data/postmaster.pid ]]; then
    local bin user
    bin=$(pg_bin)
    user=$(cluster_user)
    as_user "$user" "$bin/pg_ctl" --pgdata="$dir/data" stop --mode=fast --wait >/dev/null 2>&1 \
      || as_user "$user" "$bin/pg_ctl" --pgdata="$dir/data" stop --mode=immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

cmd_pause() {
  local dir=${1:-$(default_dir)}
  [[ -f $dir/port ]] || die "no cluster in $dir"
  as_user "$(cluster_user)" "$(pg_bin)/pg_ctl" --pgdata="$dir/data" stop --mode=fast --wait >/dev/null 2>&1 \
    || die "the server of $dir did not stop"
}

cmd_resume() {
  local dir=${1:-$(default_dir)}
  [[ -f $dir/port ]] || die "no cluster in $dir"
  start_server "$(pg_bin)" "$(cluster_user)" "$dir" "$(cat "$dir/port")" \
    || { tail -n 20 "$dir/server.log" >&2 || true; die "the server of $dir did not start again"; }
}

cmd_run() {
  (($# > 0)) || die "run: no command given"
  local dir url status=0
  dir=$(mktemp -d "${TMPDIR:-/tmp}/iamd-pg-XXXXXX")
  rmdir "$dir" # start wants an absent or empty directory it can own
  trap 'cmd_stop "$dir"' EXIT
  url=$(cmd_start "$dir")
  IAMD_TEST_STORE=$url IAMD_TEST_DATABASE_URL_BASE=$url IAMD_PG_BIN=$(pg_bin) "$@" || status=$?
  exit "$status"
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  url) shift; cmd_url "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  pause) shift; cmd_pause "$@" ;;
  resume) shift; cmd_resume "$@" ;;
  run) shift; cmd_run "$@" ;;
  *) echo "usage: $0 start|url|stop|pause|resume [DIR] | run CMD..." >&2; exit 2 ;;
esac
