#!/usr/bin/env bash
# Resident memory of a real `fabgrid worker` process, for printer owners who
# run it on a small machine beside the printer (a Raspberry Pi).
#
#   scripts/bench-worker-memory.sh [MODEL.stl ...]
#
# Builds the release binary (scripts/build.sh: static, CGO_ENABLED=0) and
# starts, all on 127.0.0.1: one coordinator (bootstrapped, with explicit
# tokens), a virtual Ender-3 on a pseudo-terminal (`fabgrid vprinter`) and a
# worker driving it. It creates a community, then orders one copy of each
# model in turn and waits until the order is done and the worker idle again.
# Without arguments the models are testdata/models/cube20.stl,
# ../shared/bench/3DBenchy.stl (when present) and the sphere of
# scripts/bench-slicers.sh (genmesh -lat 501 -lon 1000: 1,000,000
# triangles). The worker slices each model itself, so its
# memory includes slicing.
#
# A sampler reads the worker's /proc/PID/status (VmRSS, VmHWM) every 100 ms.
# Reported: RSS when idle and registered before any order; for each job the
# highest VmRSS sampled between submitting the order and the worker being
# idle again, VmHWM at that moment (it only grows, so it covers start-up and
# every earlier job too), RSS when it is idle again and at each of the
# SETTLE_AT seconds after that; and the job's wall time (submission to
# worker idle). The Go runtime forces a GC 2 minutes after the last one and
# hands freed memory back to the OS after collections, so by the default
# checkpoints, 150 and 300 s, at least one and two GCs have run after the
# job. At the last checkpoint, the worker's own view (GET /metrics on its
# control address): heap allocated, and heap idle not yet returned to the OS.
# The sampling misses spikes shorter than 100 ms; VmHWM does not.
#
# Environment: BENCH_DIR (default /tmp/fabgrid-bench; work files go to
# $BENCH_DIR/worker-mem), SPEED (virtual printer time scale, default 1000),
# IDLE_S (idle window before the first order, default 5), SETTLE_AT
# (seconds after each job, ascending, default "150 300"), JOB_TIMEOUT_S
# (default 600).
# Needs curl, jq and python3 (to find free ports).
set -euo pipefail
args=() # model paths, absolute, before leaving the caller's directory
for m in "$@"; do
  case $m in /*) args+=("$m") ;; *) args+=("$PWD/$m") ;; esac
done
cd "$(dirname "$0")/.."
ROOT=$PWD
export LC_ALL=C # EPOCHREALTIME and awk with a '.' decimal point
W=${BENCH_DIR:-/tmp/fabgrid-bench}/worker-mem
SPEED=${SPEED:-1000}
IDLE_S=${IDLE_S:-5}
read -r -a SETTLE_AT <<<"${SETTLE_AT:-150 300}"
[ ${#SETTLE_AT[@]} -gt 0 ] || { echo "bench-worker-memory: SETTLE_AT is empty" >&2; exit 1; }
JOB_TIMEOUT_S=${JOB_TIMEOUT_S:-600}

for c in curl jq go python3; do
  command -v "$c" >/dev/null || { echo "bench-worker-memory: needs $c on PATH" >&2; exit 1; }
done

pids=() # every process started, in start order

# stop PID: SIGTERM, then SIGKILL if it has not exited within 15 s.
stop() {
  local pid=$1 deadline=$((SECONDS + 15))
  kill -TERM "$pid" 2>/dev/null || return 0
  while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if alive "$pid"; then
    echo "bench-worker-memory: pid $pid did not stop on SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# nap SECONDS: sleeps in the background and waits for it, so that a signal
# stops the script at once (bash runs traps only between commands, and
# wait counts as in between).
nap_pid=''
nap() {
  sleep "$1" &
  nap_pid=$!
  wait "$nap_pid"
  nap_pid=''
}

cleanup() {
  local i
  if [ -n "$nap_pid" ]; then kill "$nap_pid" 2>/dev/null || true; fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
}
trap cleanup EXIT
trap 'echo "bench-worker-memory: interrupted" >&2; exit 130' INT
trap 'echo "bench-worker-memory: interrupted" >&2; exit 143' TERM

# alive PID: the process exists and is not a zombie.
alive() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# die MSG [LOG ...]: prints MSG and the last lines of each LOG, exits 1.
die() {
  echo "bench-worker-memory: $1" >&2
  shift
  local l
  for l in "$@"; do
    [ -f "$l" ] || continue
    echo "--- last lines of $l:" >&2
    tail -n 25 "$l" >&2
  done
  exit 1
}

# start NAME CMD...: runs CMD in the background with its output in
# $W/NAME.log; sets $last_pid.
start() {
  local name=$1
  shift
  "$@" >"$W/$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

# wait_for WHAT TIMEOUT_S PID LOG CMD...: runs CMD every 100 ms until it
# succeeds; fails if TIMEOUT_S pass or PID exits first.
wait_for() {
  local what=$1 timeout=$2 pid=$3 log=$4
  shift 4
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    alive "$pid" || die "$what: the process exited" "$log"
    [ $SECONDS -lt $deadline ] || die "$what: not within ${timeout} s" "$log"
    sleep 0.1
  done
}

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line (bound
# together, then released).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# token PREFIX: PREFIX and 32 random bytes in base64url without padding, the
# format of coordinator.NewToken.
token() {
  printf '%s%s\n' "$1" "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
}

# triangles STL: the facet count (binary or ASCII STL).
triangles() {
  local size n
  size=$(stat -c %s "$1")
  n=$(od -An -tu4 -j80 -N4 "$1" | tr -d ' ')
  if [ "$size" -eq $((84 + 50 * n)) ]; then echo "$n"; else grep -ci 'facet normal' "$1"; fi
}

# status_kb FIELD: FIELD (VmRSS or VmHWM) of the worker, in KB.
status_kb() {
  awk -v f="$1:" '$1 == f {print $2}' "/proc/$wpid/status"
}

mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# max_rss_kb T0 T1: highest VmRSS sampled between the two EPOCHREALTIMEs.
max_rss_kb() {
  awk -v t0="$1" -v t1="$2" '$1 >= t0 && $1 <= t1 && $2 > m {m = $2} END {print m + 0}' "$W/samples"
}

# worker_field JQ: a field of `fabgrid worker status --json`.
worker_field() {
  "$BIN" worker status --control "$control" --json 2>/dev/null | jq -r "$1"
}

# go_mem: the Go runtime's view from the worker's GET /metrics (read
# after the RSS figures, since a scrape allocates a little): heap
# allocated (live objects and garbage not yet swept), heap idle and not yet
# returned to the OS, the next GC's heap goal, in MB, and the GC count.
go_mem() {
  curl -fsS --max-time 5 "http://$control/metrics" | awk '
    $1 == "go_memstats_heap_alloc_bytes" {a = $2} $1 == "go_memstats_heap_idle_bytes" {i = $2}
    $1 == "go_memstats_heap_released_bytes" {r = $2} $1 == "go_memstats_next_gc_bytes" {n = $2}
    $1 == "go_gc_duration_seconds_count" {c = $2}
    END {printf "heap alloc %.1f MB, heap idle not returned %.1f MB, next GC goal %.1f MB, %d GCs\n", a/1048576, (i-r)/1048576, n/1048576, c}'
}

worker_idle() {
  [ "$(worker_field '"\(.extra.registered) \(.state) \(.job != null)"')" = "true idle false" ]
}

leader_up() {
  [ "$(curl -fsS --max-time 2 "$URL/v1/health" 2>/dev/null | jq -r .role 2>/dev/null)" = leader ]
}

# order_state ID: prints the order's state.
order_state() {
  "$BIN" order status "$1" --json --token "$ctoken" --coordinator "$URL" | jq -r .state
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)

rm -rf "$W/coord" "$W/state" "$W/tty" "$W"/*.log "$W/samples"
mkdir -p "$W"

models=()
for m in ${args[@]+"${args[@]}"}; do
  [ -f "$m" ] || die "no such model: $m"
  models+=("$m")
done
if [ ${#models[@]} -eq 0 ]; then
  models=("$ROOT/testdata/models/cube20.stl")
  if [ -f "$ROOT/../shared/bench/3DBenchy.stl" ]; then
    models+=("$(cd "$ROOT/../shared/bench" && pwd)/3DBenchy.stl")
  else
    echo "bench-worker-memory: ../shared/bench/3DBenchy.stl not found; skipping it" >&2
  fi
  if [ ! -f "$W/sphere1m.stl" ]; then
    echo "generating the 998,000-triangle sphere ..." >&2
    go run ./slicer/testmesh/genmesh -lat 501 -lon 1000 -radius 20 -o "$W/sphere1m.tmp" >"$W/genmesh.log" 2>&1 ||
      die "genmesh failed" "$W/genmesh.log"
    mv "$W/sphere1m.tmp" "$W/sphere1m.stl"
  fi
  models+=("$W/sphere1m.stl")
fi

echo "building the release binary (scripts/build.sh) ..." >&2
DIST=$W/dist scripts/build.sh >"$W/build.log" 2>&1 || die "scripts/build.sh failed" "$W/build.log"
BIN=$W/dist/fabgrid-$(go env GOOS)-$(go env GOARCH)
[ -x "$BIN" ] || die "scripts/build.sh did not write $BIN" "$W/build.log"

mapfile -t ports < <(free_ports 4)
[ ${#ports[@]} -eq 4 ] || die "could not find free loopback ports"
URL=http://127.0.0.1:${ports[0]}
control=127.0.0.1:${ports[3]}
admin=$(token fgA_)
wtoken=$(token fgW_)

start coordinator "$BIN" coordinator --node-id c1 --data-dir "$W/coord" --bootstrap \
  --http "127.0.0.1:${ports[0]}" --raft "127.0.0.1:${ports[1]}" --gossip "127.0.0.1:${ports[2]}" \
  --admin-token "$admin" --worker-token "$wtoken"
cpid=$last_pid
wait_for "coordinator (GET $URL/v1/health until leader)" 30 "$cpid" "$W/coordinator.log" leader_up

start vprinter "$BIN" vprinter --link "$W/tty" --speed "$SPEED" --profile ender3
vpid=$last_pid
wait_for "virtual printer (pty link $W/tty)" 15 "$vpid" "$W/vprinter.log" test -e "$W/tty"

start worker "$BIN" worker --coordinator "$URL" --port "$W/tty" --profile ender3 --material PLA \
  --name pi-1 --token "$wtoken" --auto-clear --control "$control" --state-dir "$W/state"
wpid=$last_pid

# The sampler: one line "EPOCHREALTIME VmRSS_KB VmHWM_KB" every 100 ms
# while the worker lives.
(
  while :; do
    rss='' hwm=''
    { while read -r k v _; do
      case $k in VmRSS:) rss=$v ;; VmHWM:) hwm=$v ;; esac
    done <"/proc/$wpid/status"; } 2>/dev/null || break
    [ -n "$rss" ] || break
    echo "$EPOCHREALTIME $rss $hwm"
    sleep 0.1
  done >"$W/samples"
) &
pids+=("$!")

wait_for "worker (registered and idle)" 30 "$wpid" "$W/worker.log" worker_idle
nap "$IDLE_S" # measurement window, not a wait for readiness
alive "$wpid" || die "the worker exited while idle" "$W/worker.log"
idle_rss=$(status_kb VmRSS)
idle_hwm=$(status_kb VmHWM)

ctoken=$("$BIN" community create bench --token "$admin" --coordinator "$URL" --json 2>"$W/cli.log" | jq -r .token) ||
  die "community create failed" "$W/cli.log" "$W/coordinator.log"
[[ $ctoken == fgC_* ]] || die "community create printed no token" "$W/cli.log"

rows=() gomem=()
for m in "${models[@]}"; do
  name=$(basename "$m" .stl)
  tri=$(triangles "$m")
  echo "ordering $name ($tri triangles) ..." >&2
  t0=$EPOCHREALTIME
  id=$("$BIN" order submit "$m" --material PLA --qty 1 --token "$ctoken" --coordinator "$URL" --json 2>"$W/cli.log" | jq -r .id) ||
    die "order submit $name failed" "$W/cli.log" "$W/coordinator.log"
  if [ -z "$id" ] || [ "$id" = null ]; then die "order submit $name printed no id" "$W/cli.log"; fi
  deadline=$((SECONDS + JOB_TIMEOUT_S))
  while :; do
    st=$(order_state "$id" 2>"$W/cli.log") || die "order status $id failed" "$W/cli.log" "$W/coordinator.log"
    case $st in
      done) break ;;
      failed | cancelled)
        "$BIN" order status "$id" --token "$ctoken" --coordinator "$URL" >&2 || true
        die "order $id ($name) $st" "$W/worker.log" "$W/vprinter.log"
        ;;
    esac
    alive "$wpid" || die "the worker exited during $name" "$W/worker.log"
    alive "$vpid" || die "the virtual printer exited during $name" "$W/vprinter.log"
    [ $SECONDS -lt $deadline ] || die "order $id ($name) not done within ${JOB_TIMEOUT_S} s (state $st)" "$W/worker.log"
    sleep 0.2
  done
  wait_for "worker idle after $name" 60 "$wpid" "$W/worker.log" worker_idle
  t1=$EPOCHREALTIME
  hwm=$(status_kb VmHWM)
  rss_done=$(status_kb VmRSS)
  sleep 0.3 # let the sampler record the end of the window
  peak=$(max_rss_kb "$t0" "$t1")
  after=()
  for s in "${SETTLE_AT[@]}"; do # measurement windows
    nap "$(awk -v t1="$t1" -v s="$s" -v now="$EPOCHREALTIME" 'BEGIN {d = t1 + s - now; print (d > 0 ? d : 0)}')"
    alive "$wpid" || die "the worker exited after $name" "$W/worker.log"
    after+=("$(mb "$(status_kb VmRSS)")")
  done
  gomem+=("$(printf '%-10s %s' "$name" "$(go_mem || echo "GET /metrics failed")")")
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  rows+=("$(printf '%-10s %10s %9s %9s %9s' "$name" "$tri" "$(mb "$peak")" "$(mb "$hwm")" "$(mb "$rss_done")"
    printf ' %9s' "${after[@]}"
    printf ' %9s' "$wall")")
done

echo
printf 'worker idle and registered, before any order (after %s s): RSS %s MB, VmHWM %s MB\n' \
  "$IDLE_S" "$(mb "$idle_rss")" "$(mb "$idle_hwm")"
echo
printf '%-10s %10s %9s %9s %9s' model triangles peak_MB HWM_MB done_MB
printf ' %9s' "${SETTLE_AT[@]/%/s_MB}" wall_s
echo
printf '%s\n' "${rows[@]}"
echo
echo "peak_MB: highest VmRSS sampled (every 100 ms) from submitting the order to the worker idle again"
echo "HWM_MB: VmHWM then (only grows); done_MB: RSS then; Ns_MB: RSS N s later; wall_s: submit to idle"
echo
echo "the Go runtime in the worker ${SETTLE_AT[-1]} s after each job (GET /metrics):"
printf '%s\n' "${gomem[@]}"
echo "virtual printer speed ${SPEED}x; $(wc -l <"$W/samples") samples in $W/samples"
echo "load before: $load0; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | awk '{print $3, $4}'), $(uname -m)"
