#!/usr/bin/env bash
# Two builds compared at the same moment under the same load: both serve the generated
# catalogue at once (result cache off), each loaded by its own wrk (one thread) over the same
# queries. Each gets about half the machine, so the ratio of their requests/s is the inverse
# ratio of their costs per request. On a shared machine whose speed drifts by a third within
# minutes, builds measured one after the other differ by the drift too; measured at once,
# the drift moves both. Rounds swap the builds' ports and start order.
#
# ALONE=1 serves the builds one at a time instead, each loaded by one wrk of two threads,
# A then B in odd rounds and B then A in even ones: how a user measures one server. At once,
# a build whose idle threads spin and yield (a work-stealing pool waiting for work) hands
# part of its half to the other build, and loses more than it would alone; a change to how
# threads wait for work is measured alone (benches/RESULTS.md, "A search pool that
# sleeps"). Alone, the machine's drift between the two turns of a round is in the ratio.
#
# Usage: benches/duel.sh BUILD_A BUILD_B [MIX] [ROUNDS] [SECONDS] [CONNECTIONS]
#   MIX: distinct, broad (default), common or health, as benches/queries.sh writes them;
#   ROUNDS: default 4; SECONDS per round: default 10; CONNECTIONS per build: default 32
#   (64 with ALONE=1).
# COUNT=N serves N generated products (default 100,000), and draws the broad mix from them.
# RUST_LOG=info serves with the access line each request writes (default warn: none).
# Prints each round's requests/s (alone, with the server's CPU time per request) and B/A,
# then the median B/A. Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 2)); then
  sed -n '/^set /q; 2,$p' "$0" >&2
  exit 2
fi
alone=${ALONE:-}
build_a=$1 build_b=$2 mix=${3:-broad} rounds=${4:-4} seconds=${5:-10} connections=${6:-${alone:+64}}
connections=${connections:-32}
count=${COUNT:-100000}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
servers=()
stop_servers() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  servers=()
}
trap 'stop_servers; rm -rf "$work"' EXIT

COUNT=$count benches/queries.sh "$work"
paths="$work/$mix.txt"
[[ -s $paths ]] || { echo "no such mix: $mix" >&2; exit 2; }
echo "$(wc -l <"$paths") $mix queries over $count products; $rounds rounds of ${seconds}s, $connections connections per build${alone:+, each build alone}"
echo "A: $build_a"
echo "B: $build_b"
echo "machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d)"

serve() { # BUILD PORT
  RUST_LOG=${RUST_LOG:-warn} "$1" --listen "127.0.0.1:$2" --metrics-listen "127.0.0.1:$(($2 + 1))" \
    --result-cache-size 0 --count "$count" >"$work/server-$2.log" 2>&1 &
  servers+=($!)
}
quiet() { # waits (at most 10 minutes) until every server is idle
  local tick calm=0 before after pid
  tick=$(getconf CLK_TCK)
  cpu() { for pid in "${servers[@]}"; do awk '{print $14 + $15}' "/proc/$pid/stat"; done | paste -sd+ | bc; }
  before=$(cpu)
  for _ in $(seq 600); do
    sleep 1
    after=$(cpu)
    if (((after - before) * 20 < tick)); then calm=$((calm + 1)); else calm=0; fi
    before=$after
    ((calm >= 2)) && return 0
  done
}
load() { # PORT SECONDS OUT, with wrk's threads from the caller's `threads` (default 1)
  wrk -t"${threads:-1}" -c"$connections" -d"$2s" -s benches/wrk/paths.lua "http://127.0.0.1:$1" -- "$paths" >"$3"
}
ready() { # PORT...
  local port pid
  for port in "$@"; do
    until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
      for pid in "${servers[@]}"; do kill -0 "$pid" 2>/dev/null || { cat "$work"/server-*.log; exit 1; }; done
      sleep 0.1
    done
  done
}
alone_turn() { # BUILD OUT: serves BUILD alone, lets its merge finish, warms up, loads it
  local pid cpu_before cpu_after
  # Two wrk threads, as a user measures one server (wrk needs a connection per thread).
  local threads=$((connections > 1 ? 2 : 1))
  serve "$1" 18500
  pid=${servers[0]}
  ready 18500
  quiet
  load 18500 2 /dev/null
  cpu_before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  load 18500 "$seconds" "$2"
  cpu_after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  echo "cpu_ticks $((cpu_after - cpu_before))" >>"$2"
  stop_servers
}
cpu_per_request() { # OUT: the server's CPU time per request answered, in µs (alone only)
  awk -v tick="$(getconf CLK_TCK)" -v seconds="$seconds" '
    /^Requests\/sec/ { rate = $2 } /^cpu_ticks/ { ticks = $2 }
    END { printf "%.0f", ticks / tick / (rate * seconds) * 1e6 }' "$1"
}
ratios=()
for round in $(seq "$rounds"); do
  if [[ -n $alone ]]; then
    if ((round % 2)); then
      alone_turn "$build_a" "$work/a.out"
      alone_turn "$build_b" "$work/b.out"
    else
      alone_turn "$build_b" "$work/b.out"
      alone_turn "$build_a" "$work/a.out"
    fi
  else
    # Odd rounds start A first on the lower port, even rounds B.
    if ((round % 2)); then port_a=18500 port_b=18510; else port_a=18510 port_b=18500; fi
    if ((round % 2)); then serve "$build_a" $port_a; serve "$build_b" $port_b; else serve "$build_b" $port_b; serve "$build_a" $port_a; fi
    ready $port_a $port_b
    # The built segments merge in the background just after start-up: let them (until both
    # servers use under 5% of a core for two seconds running), then warm up.
    quiet
    load $port_a 2 /dev/null & loader=$!
    load $port_b 2 /dev/null
    wait $loader
    load $port_a "$seconds" "$work/a.out" & loader=$!
    load $port_b "$seconds" "$work/b.out"
    wait $loader
    stop_servers
  fi
  rate_a=$(awk '/^Requests\/sec/ {print $2}' "$work/a.out")
  rate_b=$(awk '/^Requests\/sec/ {print $2}' "$work/b.out")
  ratio=$(python3 -c "import sys; print(f'{float(sys.argv[2]) / float(sys.argv[1]):.3f}')" "$rate_a" "$rate_b")
  ratios+=("$ratio")
  if [[ -n $alone ]]; then
    echo "round $round: A $rate_a requests/s ($(cpu_per_request "$work/a.out") µs CPU each), B $rate_b requests/s ($(cpu_per_request "$work/b.out") µs CPU each), B/A $ratio"
  else
    echo "round $round: A $rate_a requests/s, B $rate_b requests/s, B/A $ratio"
  fi
done
python3 -c "import statistics, sys; print(f'median B/A over {len(sys.argv) - 1} rounds: {statistics.median(map(float, sys.argv[1:])):.3f}')" "${ratios[@]}"
