#!/usr/bin/env bash
# bench/apply.sh times the built connform binary as a user runs it: apply
# of N new client-credentials connections in one generated file against a
# local emulator (one app, one org), with the encrypted token file and the
# durable state (journal, fsync), and plan of the same file. It prints, per
# run, N, wall time, time per connection and peak RSS, so growth with N is
# visible at a glance (apply must stay linear).
#
# Usage: bench/apply.sh [N ...]          (default: 1000 10000)
#        BENCH_LATENCY=50ms bench/apply.sh 1000   (every request waits 50 ms;
#        the floor is then N x 50 ms / parallelism, parallelism 10)
#
# Needs Go and GNU time (/usr/bin/time -v) for peak RSS. Nothing leaves the
# machine: every request goes to the emulator on 127.0.0.1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
latency=${BENCH_LATENCY:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/connform-bench.XXXXXX")
emu=
cleanup() {
	[ -n "$emu" ] && kill "$emu" 2>/dev/null && wait "$emu" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/connform" ./cmd/connform && go build -o "$work/gen" ./bench/gen)

fault=()
[ -n "$latency" ] && fault=(-fault "any:latency,delay=$latency")
"$work/connform" emulator -orgs 1 -info-file "$work/emu.json" "${fault[@]}" >/dev/null 2>"$work/emu.log" &
emu=$!
for _ in $(seq 100); do [ -s "$work/emu.json" ] && break; sleep 0.1; done
[ -s "$work/emu.json" ] || { echo "the emulator did not start:" >&2; cat "$work/emu.log" >&2; exit 1; }

export CONNFORM_TOKEN_STORE=file CONNFORM_TOKEN_PASSPHRASE="bench passphrase" NO_COLOR=1
# azidentity must never probe a real identity endpoint.
export IDENTITY_ENDPOINT=http://127.0.0.1:1

# measure LABEL N DIR ARGS...: runs connform ARGS in DIR and prints a row.
measure() {
	local label=$1 n=$2 dir=$3
	shift 3
	local t=$work/time.txt
	if ! (cd "$dir" && /usr/bin/time -v -o "$t" "$work/connform" "$@" >"$work/out.txt" 2>"$work/err.txt"); then
		echo "connform $* failed:" >&2
		tail -20 "$work/err.txt" >&2
		exit 1
	fi
	local wall cpu rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
	# CPU (user + system) is steadier than wall time on a busy machine.
	cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$t")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$t")
	awk -v l="$label" -v n="$n" -v w="$wall" -v c="$cpu" -v r="$rss" \
		'BEGIN { printf "%-22s %7d %9.2f s %9.3f ms %9.2f s %8d MiB\n", l, n, w, w * 1000 / n, c, r }'
}

printf '%-22s %7s %11s %12s %11s %12s\n' command N wall per-conn CPU peak-RSS
for n in "${sizes[@]}"; do
	dir=$work/n$n
	mkdir -p "$dir"
	export CONNFORM_HOME=$dir/home
	# Every connection at the emulator's org; the app's secret goes to
	# connform.vars.hcl, which connform reads by itself.
	"$work/gen" -emu-info "$work/emu.json" -all "$n" "$dir"
	measure "plan (create)" "$n" "$dir" plan
	measure "apply (create)${latency:+ $latency}" "$n" "$dir" apply -auto-approve -input=false -parallelism=10
	grep -q "Apply complete! Connections: $n added" "$work/out.txt" || { echo "apply did not add $n connections" >&2; tail "$work/out.txt" >&2; exit 1; }
	measure "plan (in sync)" "$n" "$dir" plan
done
