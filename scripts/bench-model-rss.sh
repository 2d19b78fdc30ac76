#!/usr/bin/env bash
# Resident memory of a coordinator that holds large models, after a
# restart: the figure of issue 15 (four distinct 60 MiB models left a
# restarted coordinator at 764 MB RSS when every model lived in memory).
#
#   scripts/bench-model-rss.sh [BIN]
#
# Builds fabgrid (or uses BIN), starts one bootstrapped coordinator on
# 127.0.0.1 with a fresh data dir, creates a community and orders one
# copy each of COUNT (default 4) distinct binary STLs of SIZE_MIB
# (default 60) MiB (copies of one box; the header makes them distinct),
# then stops it (SIGTERM) and starts it again on the same data dir,
# which replays the log (SNAPSHOT=1: after taking a raft snapshot with
# `fabgrid cluster snapshot save`, which the restart restores, so only
# the log after it is replayed). It reports VmRSS (and its anonymous
# and file-backed parts) and
# VmHWM of the first process after the uploads, of the restarted one
# once it leads and has applied every committed entry, and again SETTLE_S (default 10)
# seconds later, the restart-to-ready time, and the data dir's size by
# part (raft.db, snapshots, models).
# Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${BENCH_DIR:-/tmp/fabgrid-bench}/model-rss
COUNT=${COUNT:-4}
SIZE_MIB=${SIZE_MIB:-60}
SETTLE_S=${SETTLE_S:-10}
BIN=${1:-}
rm -rf "$W" && mkdir -p "$W"
if [ -z "$BIN" ]; then
  go build -o "$W/fabgrid" ./cmd/fabgrid
  BIN=$W/fabgrid
fi
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r HP RP GP <<<"$ports"
ADMIN=fgA_benchmodelrss000000000000000000
URL=http://127.0.0.1:$HP
pid=
start() {
  "$BIN" coordinator --node-id c1 --data-dir "$W/data" --http 127.0.0.1:$HP --raft 127.0.0.1:$RP \
    --gossip 127.0.0.1:$GP --admin-token $ADMIN --worker-token fgW_benchmodelrss00000000000000000 \
    --max-model-size 64MiB "$@" >>"$W/coordinator.log" 2>&1 &
  pid=$!
}
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true' EXIT
ready() { # waits until the node leads and has applied everything committed
  for _ in $(seq 1 6000); do
    curl -sf -H "Authorization: Bearer $ADMIN" "$URL/v1/cluster" 2>/dev/null |
      python3 -c 'import json,sys; c=json.load(sys.stdin); sys.exit(0 if c["leader"]=="c1" and c["applied_index"]>=c["commit_index"] else 1)' 2>/dev/null && return 0
    sleep 0.01
  done
  echo "bench-model-rss: coordinator not ready" >&2; exit 1
}
rss() { awk '/VmRSS|VmHWM|RssAnon|RssFile/ {printf "%s %d MB  ", $1, $2/1024}' /proc/$pid/status; echo; }

start --bootstrap
ready
tok=$(curl -sf -H "Authorization: Bearer $ADMIN" -d '{"name":"bench","weight":1}' "$URL/v1/communities" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for i in $(seq 1 "$COUNT"); do
  python3 - "$W/m$i.stl" "$i" "$SIZE_MIB" <<'PY'
import struct, sys
path, seed, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
v = [(10*(k&1), 10*(k>>1&1), 10*(k>>2&1)) for k in range(8)]
faces = [(0,2,1),(1,2,3),(4,5,6),(5,7,6),(0,1,4),(1,5,4),(2,6,3),(3,6,7),(0,4,2),(2,4,6),(1,3,5),(3,7,5)]
box = b"".join(struct.pack("<3f", 0, 0, 0) + b"".join(struct.pack("<3f", *v[k]) for k in f) + b"\0\0" for f in faces)
n = (mib * 2**20 - 84) // len(box)
with open(path, "wb") as out:
    out.write(("bench model %d" % seed).encode().ljust(80, b"\0") + struct.pack("<I", 12 * n))
    out.write(box * n)
PY
  code=$(curl -s -o "$W/order$i.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
    -F quantity=1 -F material=PLA -F "model=@$W/m$i.stl" "$URL/v1/orders")
  [ "$code" = 201 ] || { echo "bench-model-rss: order $i: $code $(cat "$W/order$i.json")" >&2; exit 1; }
done
echo "after $COUNT orders of $SIZE_MIB MiB:  $(rss)"
if [ -n "${SNAPSHOT:-}" ]; then
  FABGRID_TOKEN=$ADMIN "$BIN" cluster snapshot save "$W/backup.snap" --coordinator "$URL"
  rm -f "$W/backup.snap"
fi
kill -TERM $pid; wait $pid || true
t0=$(date +%s.%N)
start
ready
t1=$(date +%s.%N)
echo "restarted, ready after $(echo "$t1 - $t0" | bc) s:  $(rss)"
sleep "$SETTLE_S"
echo "restarted + ${SETTLE_S} s:  $(rss)"
du -sh "$W/data/raft.db" "$W/data/wal" "$W/data/snapshots" "$W/data/models" 2>/dev/null || true
du -sh "$W/data"
