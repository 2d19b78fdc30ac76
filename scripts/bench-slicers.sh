#!/usr/bin/env bash
# Side by side: CuraEngine, PrusaSlicer and `fabgrid slice` on the same
# models with the same settings (Ender-3, 0.2 mm layers, 2 perimeters,
# 4 top/bottom layers, 20 % grid infill, one skirt). RUNS=N runs each
# (default 1) and takes the medians; prints wall time, CPU time and peak RSS
# (/usr/bin/time -v) and the extruded volume of every
# output as measured by fabgrid's own G-code analyser, with ratios to
# CuraEngine.
#
#   scripts/bench-slicers.sh [MODEL.stl ...]
#
# Without arguments: three test models, ../shared/bench/3DBenchy.stl and a
# generated 1,000,000-triangle sphere. Installs cura-engine, prusa-slicer
# and (unpacked, without Qt) the cura package's printer definitions from
# Debian when they are missing. Work files go to $BENCH_DIR
# (default /tmp/fabgrid-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=${BENCH_DIR:-/tmp/fabgrid-bench}
mkdir -p "$W"

need_apt=()
command -v CuraEngine >/dev/null || need_apt+=(cura-engine)
command -v prusa-slicer >/dev/null || need_apt+=(prusa-slicer)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
R=$W/cura/usr/share/cura/resources
if [ ! -d "$R/definitions" ]; then
  (cd "$W" && apt-get download cura >/dev/null && dpkg -x cura_*.deb "$W/cura")
fi

# Both release builds (scripts/build.sh: static, CGO_ENABLED=0): the grid
# build has every command, the slicer build (-tags slicer) only the ones that
# need no grid.
DIST=$W/dist scripts/build.sh >/dev/null
cp "$W/dist/fabgrid-$(go env GOOS)-$(go env GOARCH)" "$W/fabgrid"
cp "$W/dist/fabgrid-slicer-$(go env GOOS)-$(go env GOARCH)" "$W/fabgrid-slicer"

models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  models=("$ROOT/testdata/models/cube20.stl" "$ROOT/testdata/models/sphere.stl" "$ROOT/testdata/models/torus.stl")
  [ -f "$ROOT/../shared/bench/3DBenchy.stl" ] && models+=("$ROOT/../shared/bench/3DBenchy.stl")
  if [ ! -f "$W/sphere1m.stl" ]; then
    go run ./slicer/testmesh/genmesh -lat 501 -lon 1000 -radius 20 -o "$W/sphere1m.stl" >/dev/null
  fi
  models+=("$W/sphere1m.stl")
fi

cat >"$W/prusa.ini" <<'EOF'
gcode_flavor = marlin2
bed_shape = 0x0,220x0,220x220,0x220
max_print_height = 250
nozzle_diameter = 0.4
filament_diameter = 1.75
layer_height = 0.2
first_layer_height = 0.2
perimeters = 2
top_solid_layers = 4
bottom_solid_layers = 4
fill_density = 20%
fill_pattern = grid
skirts = 1
skirt_distance = 3
temperature = 205
first_layer_temperature = 210
bed_temperature = 60
first_layer_bed_temperature = 60
EOF

# run NAME CMD...: $RUNS timed runs (default 1); prints the median
# "wall_s rss_mb cpu_s" (each column's median on its own).
run() {
  local log=$W/$1.time name=$1 i
  shift
  for ((i = 0; i < ${RUNS:-1}; i++)); do
    local t0=$EPOCHREALTIME
    /usr/bin/time -v "$@" >"$W/last.out" 2>"$log" || { echo "FAILED: $*" >&2; tail -5 "$log" >&2; echo "nan nan nan"; return; }
    local t1=$EPOCHREALTIME
    # Wall time from the shell's clock (microseconds; time -v rounds to 10 ms).
    awk -F': ' -v t0="$t0" -v t1="$t1" '/Maximum resident set size/ {r=$2/1024} /User time|System time/ {c+=$2}
      END {printf "%.3f %.1f %.2f\n", t1 - t0, r, c}' "$log"
  done >"$W/$name.runs"
  python3 -c 'import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
print(*(st.median_low(float(r[i]) for r in rows) for i in range(3)))' "$W/$name.runs"
}

# analyse FILE: prints "layers model_mm3".
analyse() {
  "$W/fabgrid" gcode info --json "$1" 2>/dev/null | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["layers"], round(a["model_filament_mm3"],1))' || echo "nan nan"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%-14s %-9s %8s %8s %8s %7s %12s %9s %9s %9s\n' model slicer wall_s cpu_s rss_MB layers extruded_mm3 t/cura mem/cura vol/cura
for m in "${models[@]}"; do
  name=$(basename "$m" .stl)
  declare -A wall rss cpu layers vol
  read -r wall[cura] rss[cura] cpu[cura] < <(CURA_ENGINE_SEARCH_PATH=$R/definitions:$R/extruders run "$name-cura" \
    CuraEngine slice -j "$R/definitions/creality_ender3.def.json" -s center_object=true \
    -s layer_height=0.2 -s layer_height_0=0.2 -s infill_sparse_thickness=0.2 \
    -s wall_line_count=2 -s top_layers=4 -s bottom_layers=4 \
    -s infill_pattern=grid -s infill_line_distance=4 -s adhesion_type=skirt \
    -e0 -s material_diameter=1.75 -l "$m" -o "$W/$name-cura.gcode")
  read -r wall[prusa] rss[prusa] cpu[prusa] < <(run "$name-prusa" prusa-slicer --export-gcode --load "$W/prusa.ini" \
    --center 110,110 -o "$W/$name-prusa.gcode" "$m")
  fab=(slice "$m" --profile ender3 --material PLA --layer-height 0.2 --perimeters 2 --top-layers 4 --bottom-layers 4
    --infill 20 --infill-pattern grid --quiet)
  read -r wall[fabgrid] rss[fabgrid] cpu[fabgrid] < <(run "$name-fabgrid" "$W/fabgrid" "${fab[@]}" -o "$W/$name-fabgrid.gcode")
  read -r wall[fg-slicer] rss[fg-slicer] cpu[fg-slicer] < <(run "$name-fg-slicer" "$W/fabgrid-slicer" "${fab[@]}" -o "$W/$name-fg-slicer.gcode")
  for s in cura prusa fabgrid fg-slicer; do
    read -r layers[$s] vol[$s] < <(analyse "$W/$name-$s.gcode")
  done
  for s in cura prusa fabgrid fg-slicer; do
    python3 - "$name" "$s" "${wall[$s]}" "${cpu[$s]}" "${rss[$s]}" "${layers[$s]}" "${vol[$s]}" "${wall[cura]}" "${rss[cura]}" "${vol[cura]}" <<'PY'
import sys
n, s, w, c, r, l, v, cw, cr, cv = sys.argv[1:]
def f(x): 
    try: return float(x)
    except ValueError: return float('nan')
def ratio(a, b):
    a, b = f(a), f(b)
    return f"{a/b:9.2f}" if b else "      nan"
print(f"{n:<14} {s:<9} {f(w):8.3f} {f(c):8.2f} {f(r):8.1f} {l:>7} {f(v):12.1f} {ratio(w,cw)} {ratio(r,cr)} {ratio(v,cv)}")
PY
  done
  unset wall rss cpu layers vol
done
echo "load before: $load0"
echo "t/cura is the wall-time ratio; cpu_s is user+system time; fabgrid is the grid build, fg-slicer the slicer build"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | awk '{print $3}'); load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
