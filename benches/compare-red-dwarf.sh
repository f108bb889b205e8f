#!/usr/bin/env bash
# polder and red-dwarf on the same inputs; writes the red-dwarf section of
# benches/RESULTS.md. See benches/README.md.
#
#   benches/compare-red-dwarf.sh            # 5 opendata conversations + 1 M and 10 M votes
#   SIZES=1m benches/compare-red-dwarf.sh   # skip the 10 M set
#   SIZES="" benches/compare-red-dwarf.sh   # opendata only (quick check)
#   POLDER_NO_BUILD=1                       # use the existing target/release/polder
#   RED_DWARF_TIMEOUT=600                   # cap of one red-dwarf run, seconds
#   RUNS=3                                  # runs per tool of inputs under 1 M votes (median shown)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=benches/.venv
DATA=benches/data
FIXTURES=../shared/fixtures/opendata
SIZES=${SIZES-1m 10m}  # unset: both sets; empty: none

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q red-dwarf==0.4.0
if [ "${POLDER_NO_BUILD:-}" = 1 ]; then
    [ -x target/release/polder ] || { echo "POLDER_NO_BUILD=1 but target/release/polder is missing" >&2; exit 1; }
else
    cargo build --release -p polder
fi
mkdir -p "$DATA"

inputs=()
for conversation in vtaiwan.uberx football-concussions canadian-electoral-reform 15-per-hour-seattle brexit-consensus; do
    inputs+=("$conversation=$FIXTURES/$conversation")
done
for size in $SIZES; do
    dir="$DATA/synth-$size"
    [ -f "$dir/votes.csv" ] || ./target/release/polder synth --preset "scale_$size" --seed 1 --force "$dir"
    inputs+=("synthetic $size=$dir")
done

machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') — $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(rustc --version), $($VENV/bin/python --version), $(date -u '+%Y-%m-%d')"
"$VENV/bin/python" benches/compare_red_dwarf.py "$machine" "$DATA" "${inputs[@]}"
