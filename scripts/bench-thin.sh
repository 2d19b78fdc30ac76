#!/usr/bin/env bash
# Extruded volume of thin-featured parts beside CuraEngine's, with the
# settings of scripts/bench-slicers.sh (Ender-3, 0.2 mm layers, 2
# perimeters, 4 top/bottom layers, 20 % grid infill, one skirt): the
# feature models necks (rungs 1.4-2.6 mm wide between two rails), relief
# (lettering 0.8-2.2 mm wide on a plate), wall1 and rib06 from
# slicer/testmesh, and any models named. CuraEngine runs twice: with the
# benchmark's command line, and with the two settings its command line
# leaves at their definition defaults where Cura itself would derive them
# from bottom_layers and the infill (initial_bottom_layers=4, no skin
# edge support), the "cura-as-set" rows. Volume is fabgrid's analyser's
# model_filament_mm3 (everything after the first layer marker, skirt
# included).
#
#   scripts/bench-thin.sh [MODEL.stl...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=${BENCH_DIR:-/tmp/fabgrid-bench}
mkdir -p "$W/thin"
command -v CuraEngine >/dev/null || { apt-get update -qq && apt-get install -y -qq cura-engine >/dev/null; }
R=$W/cura/usr/share/cura/resources
if [ ! -d "$R/definitions" ]; then
  (cd "$W" && apt-get download cura >/dev/null && dpkg -x cura_*.deb "$W/cura")
fi
CGO_ENABLED=0 go build -trimpath -o "$W/fabgrid" ./cmd/fabgrid
models=()
for m in necks relief wall1 rib06; do
  go run ./slicer/testmesh/genmesh -model $m -o "$W/thin/$m.stl" >/dev/null
  models+=("$W/thin/$m.stl")
done
models+=("$@")
vol() {
  # gcode info exits 1 when it raises a sanity flag; the figures stand.
  { "$W/fabgrid" gcode info --json "$1" 2>/dev/null || true; } | python3 -c 'import json, sys; print(round(json.load(sys.stdin)["model_filament_mm3"], 1))'
}
cura() {
  local m=$1 out=$2
  shift 2
  CURA_ENGINE_SEARCH_PATH=$R/definitions:$R/extruders CuraEngine slice -j "$R/definitions/creality_ender3.def.json" -s center_object=true \
    -s layer_height=0.2 -s layer_height_0=0.2 -s infill_sparse_thickness=0.2 \
    -s wall_line_count=2 -s top_layers=4 -s bottom_layers=4 \
    -s infill_pattern=grid -s infill_line_distance=4 -s adhesion_type=skirt "$@" \
    -e0 -s material_diameter=1.75 -l "$m" -o "$out" >/dev/null 2>&1
}
printf '%-10s %12s %14s %12s %9s %15s\n' model cura_mm3 cura_as_set fabgrid fab/cura fab/cura_as_set
for m in "${models[@]}"; do
  n=$(basename "$m" .stl)
  cura "$m" "$W/thin/$n-cura.gcode"
  cura "$m" "$W/thin/$n-cura-as-set.gcode" -s initial_bottom_layers=4 -s skin_edge_support_layers=0 -s skin_edge_support_thickness=0
  "$W/fabgrid" slice "$m" --profile ender3 --material PLA --layer-height 0.2 --perimeters 2 --top-layers 4 \
    --bottom-layers 4 --infill 20 --infill-pattern grid --quiet -o "$W/thin/$n-fabgrid.gcode" >/dev/null
  c=$(vol "$W/thin/$n-cura.gcode"); a=$(vol "$W/thin/$n-cura-as-set.gcode"); f=$(vol "$W/thin/$n-fabgrid.gcode")
  python3 -c 'import sys; n, c, a, f = sys.argv[1], *map(float, sys.argv[2:]); print(f"{n:<10} {c:12.1f} {a:14.1f} {f:12.1f} {f/c:9.2f} {f/a:15.2f}")' "$n" "$c" "$a" "$f"
done
echo "machine: $(nproc) cores, $(go version | awk '{print $3}'), commit $(git rev-parse --short HEAD)"
