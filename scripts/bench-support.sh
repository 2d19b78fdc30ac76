#!/usr/bin/env bash
# Side by side with supports on: CuraEngine and `fabgrid slice --support`
# on the feature models (a T, a bridge between two pillars, ramps leaning
# 30°, 45°, 60° and 75° from vertical, a 1 mm wall, a 0.6 mm rib, a
# 5.66 mm block) and 3DBenchy, with the same settings as
# scripts/bench-slicers.sh (Ender-3, 0.2 mm layers, 2 perimeters, 4
# top/bottom layers, 20 % grid infill, one skirt) and the same support:
# 50° from vertical, from the build plate, lines at 15 %, 0.7 mm XY gap,
# one 0.2 mm layer of Z gap, two interface layers at 80 %, bridges on.
# fabgrid runs as both release builds (the grid build, and the slicer
# build of -tags slicer that the slice command also ships in).
# RUNS=N runs each (default 1), medians. Prints wall time, peak RSS, layers,
# the extruded volume and the support's volume (SUPPORT and
# SUPPORT-INTERFACE, from fabgrid's analyser), with ratios to CuraEngine.
#
#   scripts/bench-support.sh [BENCHY.stl]
#
# Work files go to $BENCH_DIR (default /tmp/fabgrid-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=${BENCH_DIR:-/tmp/fabgrid-bench}
mkdir -p "$W/support"
benchy=${1:-$ROOT/../shared/bench/3DBenchy.stl}

need_apt=()
command -v CuraEngine >/dev/null || need_apt+=(cura-engine)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
R=$W/cura/usr/share/cura/resources
if [ ! -d "$R/definitions" ]; then
  (cd "$W" && apt-get download cura >/dev/null && dpkg -x cura_*.deb "$W/cura")
fi
CGO_ENABLED=0 go build -trimpath -o "$W/fabgrid" ./cmd/fabgrid
CGO_ENABLED=0 go build -trimpath -tags slicer -o "$W/fabgrid-slicer" ./cmd/fabgrid

models=()
for m in tshape bridge ramp30 ramp45 ramp60 ramp75 wall1 rib06 block566; do
  go run ./slicer/testmesh/genmesh -model $m -o "$W/support/$m.stl" >/dev/null
  models+=("$W/support/$m.stl")
done
[ -f "$benchy" ] && models+=("$benchy")

# run NAME CMD...: median "wall_s rss_mb" of $RUNS runs.
run() {
  local name=$1 i
  shift
  for ((i = 0; i < ${RUNS:-1}; i++)); do
    local t0=$EPOCHREALTIME
    /usr/bin/time -v "$@" >/dev/null 2>"$W/support/$name.time" || { echo "FAILED: $*" >&2; tail -5 "$W/support/$name.time" >&2; echo "nan nan"; return; }
    local t1=$EPOCHREALTIME
    awk -F': ' -v t0="$t0" -v t1="$t1" '/Maximum resident set size/ {r=$2/1024} END {printf "%.3f %.1f\n", t1 - t0, r}' "$W/support/$name.time"
  done >"$W/support/$name.runs"
  python3 -c 'import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
print(*(st.median_low(float(r[i]) for r in rows) for i in range(2)))' "$W/support/$name.runs"
}

# analyse FILE: "layers model_mm3 support_mm3".
analyse() {
  "$W/fabgrid" gcode info --json "$1" 2>/dev/null | python3 -c 'import json, math, sys
a = json.load(sys.stdin); t = a.get("type_filament_mm") or {}
area = math.pi * 1.75 ** 2 / 4
print(a["layers"], round(a["model_filament_mm3"], 1), round((t.get("SUPPORT", 0) + t.get("SUPPORT-INTERFACE", 0)) * area, 1))' || echo "nan nan nan"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%-10s %-10s %8s %8s %7s %12s %11s %8s %9s %10s\n' model slicer wall_s rss_MB layers extruded_mm3 support_mm3 t/cura mem/cura sup/cura
for m in "${models[@]}"; do
  name=$(basename "$m" .stl)
  read -r cw cr < <(CURA_ENGINE_SEARCH_PATH=$R/definitions:$R/extruders run "$name-cura" \
    CuraEngine slice -j "$R/definitions/creality_ender3.def.json" -s center_object=true \
    -s layer_height=0.2 -s layer_height_0=0.2 -s infill_sparse_thickness=0.2 \
    -s wall_line_count=2 -s top_layers=4 -s bottom_layers=4 \
    -s infill_pattern=grid -s infill_line_distance=4 -s adhesion_type=skirt \
    -s support_enable=true -s support_type=buildplate -s support_angle=50 -s support_pattern=lines \
    -s support_infill_rate=15 -s support_line_distance=2.667 -s support_xy_distance=0.7 \
    -s support_z_distance=0.2 -s support_top_distance=0.2 -s support_bottom_distance=0.2 \
    -s support_interface_enable=true -s support_roof_enable=true -s support_interface_height=0.4 \
    -s support_roof_height=0.4 -s support_interface_density=80 -s support_roof_density=80 \
    -s support_roof_line_distance=0.5 -s bridge_settings_enabled=true \
    -e0 -s material_diameter=1.75 -l "$m" -o "$W/support/$name-cura.gcode")
  fab=(slice "$m" --profile ender3 --material PLA --layer-height 0.2 --perimeters 2 --top-layers 4
    --bottom-layers 4 --infill 20 --infill-pattern grid --support --quiet)
  read -r fw fr < <(run "$name-fabgrid" "$W/fabgrid" "${fab[@]}" -o "$W/support/$name-fabgrid.gcode")
  read -r sw sr < <(run "$name-fg-slicer" "$W/fabgrid-slicer" "${fab[@]}" -o "$W/support/$name-fg-slicer.gcode")
  read -r cl cv cs < <(analyse "$W/support/$name-cura.gcode")
  read -r fl fv fs < <(analyse "$W/support/$name-fabgrid.gcode")
  python3 - "$name" "$cw" "$cr" "$cl" "$cv" "$cs" "$fw" "$fr" "$fl" "$fv" "$fs" "$sw" "$sr" <<'PY'
import sys
n, cw, cr, cl, cv, cs, fw, fr, fl, fv, fs, sw, sr = sys.argv[1:]
f = float
def ratio(a, b):
    return f"{f(a)/f(b):9.2f}" if f(b) else "        -"
print(f"{n:<10} {'CuraEngine':<10} {f(cw):8.3f} {f(cr):8.1f} {cl:>7} {f(cv):12.1f} {f(cs):11.1f}")
print(f"{'':<10} {'fabgrid':<10} {f(fw):8.3f} {f(fr):8.1f} {fl:>7} {f(fv):12.1f} {f(fs):11.1f} {ratio(fw,cw)} {ratio(fr,cr)} {ratio(fs,cs)}")
print(f"{'':<10} {'fg-slicer':<10} {f(sw):8.3f} {f(sr):8.1f} {fl:>7} {f(fv):12.1f} {f(fs):11.1f} {ratio(sw,cw)} {ratio(sr,cr)} {ratio(fs,cs)}")
PY
done
echo "load before: $load0; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | awk '{print $3}'), commit $(git rev-parse --short HEAD)"
