#!/bin/sh
# Times connform plan (create) beside the floor program (hcl/v2 parse and
# evaluation of every attribute of the same file, nothing more) on a
# configuration of N connections as bench/gen writes it. Prints N, the median wall time of RUNS runs each (taken in turns),
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
# busy machine) and the largest peak RSS of the runs logged in a file;
# seconds and KiB
summarize() {
	median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
	echo "$(awk '{print $1}' "$1" | median)" \
		"$(awk '{print $2+$3}' "$1" | median)" \
		"$(awk '{if ($4>m) m=$4} END {print m}' "$1")"
}

# The two programs take turns, so that both meet the same load: on a
# shared machine the CPU time of either moves by half between quiet and
# busy minutes (the garbage collector takes an idle core when there is
# one).
cd "$work/cfg"
: >"$work/floor.runs"
: >"$work/plan.runs"
for _ in $(seq "$RUNS"); do
	/usr/bin/time -f '%e %U %S %M' -a -o "$work/floor.runs" "$work/floor" main.hcl >/dev/null
	/usr/bin/time -f '%e %U %S %M' -a -o "$work/plan.runs" "$work/connform" plan >/dev/null
done
set -- $(summarize "$work/floor.runs")
floor_s=$1 floor_cpu=$2 floor_kb=$3
set -- $(summarize "$work/plan.runs")
plan_s=$1 plan_cpu=$2 plan_kb=$3
awk -v n="$N" -v ps="$plan_s" -v pc="$plan_cpu" -v pk="$plan_kb" -v fs="$floor_s" -v fc="$floor_cpu" -v fk="$floor_kb" 'BEGIN {
	printf "%-8s %8s %10s %10s %12s %10s\n", "program", "N", "wall (s)", "CPU (s)", "wall/conn", "peak RSS"
	printf "%-8s %8d %10.3f %10.3f %9.1f µs %6.0f MiB\n", "floor", n, fs, fc, fs*1e6/n, fk/1024
	printf "%-8s %8d %10.3f %10.3f %9.1f µs %6.0f MiB\n", "plan", n, ps, pc, ps*1e6/n, pk/1024
	if (fs > 0 && fc > 0) printf "plan / floor: %.2f× wall, %.2f× CPU (target ≤ 1.5×)\n", ps/fs, pc/fc
}'
