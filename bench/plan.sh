#!/bin/sh
# Times connform plan (create) beside the floor program (hcl/v2 parse and
# evaluation of every attribute of the same file, nothing more) on a
# configuration of N connections as bench/gen writes it. Prints N, the median wall time of RUNS runs,
# the time per connection, the peak RSS, and plan's ratio to the floor.
#
# Usage: bench/plan.sh [N] [RUNS]       (defaults: 10000 5)
set -eu
N=${1:-10000}
RUNS=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/connform" ./cmd/connform && go build -o "$work/floor" ./bench/floor && go build -o "$work/gen" ./bench/gen)
mkdir "$work/cfg"
"$work/gen" "$N" "$work/cfg"
# The token store is the default (auto) unless the caller sets
# CONNFORM_TOKEN_STORE (and CONNFORM_TOKEN_PASSPHRASE for "file", whose key
# derivation then adds about 60 ms to every run).
export CONNFORM_HOME="$work/home" CONNFORM_VAR_client_secret=bench-secret NO_COLOR=1

# median wall time, median CPU time (user + system: steadier than wall on a
# busy machine) and the largest peak RSS of RUNS runs; seconds and KiB
measure() {
	: >"$work/runs"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >/dev/null
		cat "$work/t" >>"$work/runs"
	done
	median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
	echo "$(awk '{print $1}' "$work/runs" | median)" \
		"$(awk '{print $2+$3}' "$work/runs" | median)" \
		"$(awk '{if ($4>m) m=$4} END {print m}' "$work/runs")"
}

cd "$work/cfg"
set -- $(measure "$work/floor" main.hcl)
floor_s=$1 floor_cpu=$2 floor_kb=$3
set -- $(measure "$work/connform" plan)
plan_s=$1 plan_cpu=$2 plan_kb=$3
awk -v n="$N" -v ps="$plan_s" -v pc="$plan_cpu" -v pk="$plan_kb" -v fs="$floor_s" -v fc="$floor_cpu" -v fk="$floor_kb" 'BEGIN {
	printf "%-8s %8s %10s %10s %12s %10s\n", "program", "N", "wall (s)", "CPU (s)", "wall/conn", "peak RSS"
	printf "%-8s %8d %10.3f %10.3f %9.1f µs %6.0f MiB\n", "floor", n, fs, fc, fs*1e6/n, fk/1024
	printf "%-8s %8d %10.3f %10.3f %9.1f µs %6.0f MiB\n", "plan", n, ps, pc, ps*1e6/n, pk/1024
	if (fs > 0 && fc > 0) printf "plan / floor: %.2f× wall, %.2f× CPU (target ≤ 1.5×)\n", ps/fs, pc/fc
}'
