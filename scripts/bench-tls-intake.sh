#!/usr/bin/env bash
# Order intake with TLS on (API, forwarding and raft) beside plaintext, in
# the same run: BenchmarkOrderIntake's "leader" and "tls-leader" (and, with
# VIA=follower, "follower" and "tls-follower"), alternated PAIRS times so
# that a busy shared machine slows both alike. Prints orders/s and CPU
# per order (the whole process) of every run, each pair's throughput
# ratio TLS/plaintext, and the medians.
#
#   scripts/bench-tls-intake.sh                 # PAIRS=5 N=10000 VIA=leader
#   PAIRS=3 N=5000 VIA=follower scripts/bench-tls-intake.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
N=${N:-10000}
VIA=${VIA:-leader}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/e2e.test" ./coordinator/e2e

rate() { # sub-benchmark → "orders/s cpu-µs/op"
  (cd coordinator/e2e && "$tmp/e2e.test" -test.run '^$' -test.bench "^BenchmarkOrderIntake\$/^$1\$" -test.benchtime "${N}x") |
    awk '/^BenchmarkOrderIntake/ { for (i = 1; i < NF; i++) { if ($(i+1) == "orders/s") r = $i; if ($(i+1) == "cpu-µs/op") c = $i }; print r, c }'
}

: > "$tmp/ratios"
: > "$tmp/plain"
: > "$tmp/tls"
for i in $(seq "$PAIRS"); do
  read -r p pc < <(rate "$VIA")
  read -r t tc < <(rate "tls-$VIA")
  r=$(awk -v p="$p" -v t="$t" 'BEGIN { printf "%.2f", t / p }')
  echo "pair $i: $VIA $p orders/s ($pc cpu-µs/order), tls-$VIA $t orders/s ($tc cpu-µs/order), ratio $r   (load $(cut -d' ' -f1 /proc/loadavg))"
  echo "$p" >> "$tmp/plain"; echo "$t" >> "$tmp/tls"; echo "$r" >> "$tmp/ratios"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median: $VIA $(median "$tmp/plain") orders/s, tls-$VIA $(median "$tmp/tls") orders/s, ratio $(median "$tmp/ratios")"
