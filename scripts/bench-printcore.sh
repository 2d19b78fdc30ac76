#!/usr/bin/env bash
# Side by side on one machine: Printrun's printcore and `fabgrid print`
# stream the same file (100k commands by default) to the same virtual
# printer (`fabgrid vprinter`, instant firmware, on a pseudo-terminal).
# Prints commands/s for both and their ratio, and checks that the printer
# executed every command exactly once, in order, in both runs.
#
#   scripts/bench-printcore.sh            # LINES=100000
#   LINES=20000 scripts/bench-printcore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-100000}
PY=/usr/bin/python3

if ! "$PY" -c 'import printrun.printcore' 2>/dev/null; then
  apt-get install -y -qq printrun >/dev/null
fi

tmp=$(mktemp -d)
vp=""
cleanup() {
  if [ -n "$vp" ]; then kill -INT "$vp" 2>/dev/null || true; wait "$vp" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/fabgrid" ./cmd/fabgrid

# The file: PrusaSlicer-style moves with relative extrusion, no comments.
"$PY" - "$LINES" > "$tmp/bench.gcode" <<'PY'
import random, sys
n = int(sys.argv[1]); r = random.Random(1)
for i in range(n):
    x, y = 20 + r.random() * 180, 20 + r.random() * 180
    if i == 0: print("M83")
    elif i % 500 == 0: print("G1 Z%.2f F600" % (0.2 + (i // 500) * 0.2))
    elif i % 7 == 0: print("G1 X%.3f Y%.3f F7800" % (x, y))
    else: print("G1 X%.3f Y%.3f E.%05d" % (x, y, r.randrange(60000)))
PY

start_vprinter() { # $1: name of the run
  rm -f "$tmp/tty"
  "$tmp/fabgrid" vprinter --link "$tmp/tty" --speed 0 --record "$tmp/$1.rec" > "$tmp/$1.vp.log" 2>&1 &
  vp=$!
  for _ in $(seq 100); do [ -e "$tmp/tty" ] && return; sleep 0.05; done
  echo "vprinter did not start"; cat "$tmp/$1.vp.log"; exit 1
}
stop_vprinter() {
  kill -INT "$vp"; wait "$vp" || true; vp=""
}
check_record() { # $1: name; the record minus host housekeeping must equal the file
  grep -v -E '^(M110|M115|M155|M105)( |$)' "$tmp/$1.rec" > "$tmp/$1.cmds" || true
  if cmp -s "$tmp/$1.cmds" "$tmp/bench.gcode"; then echo "exactly once, in order"; else echo "MISMATCH (lost or repeated commands)"; fi
}

# printcore
start_vprinter printcore
"$PY" - "$tmp/tty" "$tmp/bench.gcode" > "$tmp/printcore.out" <<'PY'
import sys, time
from printrun.printcore import printcore
from printrun import gcoder
port, path = sys.argv[1], sys.argv[2]
lines = [l.rstrip("\n") for l in open(path)]
gc = gcoder.LightGCode(lines)
p = printcore(port, 115200)
t0 = time.time()
while not p.online:
    if time.time() - t0 > 30:
        sys.exit("printcore: the printer did not come online")
    time.sleep(0.01)
t1 = time.time()
p.startprint(gc)
while p.printing:
    time.sleep(0.002)
t2 = time.time()
time.sleep(0.3)  # let the last ok arrive before closing
p.disconnect()
print(len(lines), "%.3f" % (t2 - t1))
PY
stop_vprinter
read -r pc_n pc_s < "$tmp/printcore.out"
pc_check=$(check_record printcore)

# fabgrid print
start_vprinter fabgrid
"$tmp/fabgrid" print --port "$tmp/tty" --json "$tmp/bench.gcode" > "$tmp/fabgrid.json" 2> "$tmp/fabgrid.err"
stop_vprinter
fg_s=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_s"])' "$tmp/fabgrid.json")
fg_check=$(check_record fabgrid)

"$PY" - "$pc_n" "$pc_s" "$fg_s" "$pc_check" "$fg_check" <<'PY'
import sys
n, pc, fg = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("commands: %d (streaming time, handshake excluded)" % n)
print("printcore:     %8.0f commands/s  (%.2f s)  %s" % (n / pc, pc, sys.argv[4]))
print("fabgrid print: %8.0f commands/s  (%.2f s)  %s" % (n / fg, fg, sys.argv[5]))
print("ratio fabgrid/printcore: %.2fx" % (pc / fg))
PY
