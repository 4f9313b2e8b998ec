# A throwaway PostgreSQL server on loopback, from Debian's `postgresql` package binaries, for
# benchmarks and the local cluster. Source this file, then:
#   pg_start DIR PORT   initdb into DIR (once) and start a server on 127.0.0.1:PORT
#   pg_stop DIR         stop it (fast: open connections are cut)
#   pg_url PORT [DB]    the URL of database DB (default postgres) on it
# initdb refuses to run as root, so as root the server runs as the `postgres` user (who
# must be able to reach DIR).

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x $dir/initdb ]] || { echo "PostgreSQL binaries missing: apt-get install postgresql" >&2; return 1; }
  echo "$dir"
}

pg_as_owner() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin) || return 1
  mkdir -p "$dir"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
  if [[ ! -f $dir/db/PG_VERSION ]]; then
    pg_as_owner "$bin/initdb" -A trust -U postgres -E UTF8 --no-sync -D "$dir/db" >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; return 1; }
  fi
  pg_as_owner "$bin/pg_ctl" -w -t 60 -D "$dir/db" -l "$dir/server.log" \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

pg_stop() {
  local dir=$1 bin
  bin=$(pg_bin) || return 1
  [[ -f $dir/db/postmaster.pid ]] || return 0
  pg_as_owner "$bin/pg_ctl" -w -m fast -D "$dir/db" stop >/dev/null
}

pg_url() {
  echo "postgres://postgres@127.0.0.1:$1/${2:-postgres}"
}
