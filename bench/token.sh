#!/bin/sh
# Times a warm `connform token NAME` (its token cached, its connection in
# the evaluation cache) on configurations of 100 and 10,000 connections as
# bench/gen writes them, against the built-in emulator, with the encrypted
# file token store. The target is under 20 ms at any size. Prints N, the
# median wall and CPU time of RUNS runs and the peak RSS, and checks that
# a warm run made no HTTP request.
#
# Usage: bench/token.sh [RUNS] [N...]     (defaults: 20 100 10000)
set -eu
RUNS=${1:-20}
shift 2>/dev/null || true
SIZES=${*:-100 10000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
(cd "$root" && go build -o "$work/connform" ./cmd/connform && go build -o "$work/gen" ./bench/gen)
"$work/connform" emulator -info-file "$work/emu.json" >/dev/null 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emu.json" ] && break; sleep 0.1; done
# The token store is the default (auto) unless the caller sets
# CONNFORM_TOKEN_STORE (and CONNFORM_TOKEN_PASSPHRASE for "file", whose
# key derivation then dominates every run).
export CONNFORM_HOME="$work/home" NO_COLOR=1

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
printf '%-8s %10s %10s %10s %s\n' N "wall (ms)" "CPU (ms)" "peak RSS" "warm requests"
for n in $SIZES; do
	dir="$work/cfg$n"
	mkdir "$dir"
	"$work/gen" -emu-info "$work/emu.json" "$n" "$dir"
	# Cold: evaluates everything, gets a token from the emulator, caches.
	(cd "$dir" && "$work/connform" token org00000 >/dev/null)
	: >"$work/runs"
	for _ in $(seq "$RUNS"); do
		(cd "$dir" && /usr/bin/time -f '%e %U %S %M' -o "$work/t" "$work/connform" token org00000 >/dev/null)
		cat "$work/t" >>"$work/runs"
	done
	requests=$(cd "$dir" && CONNFORM_LOG=debug "$work/connform" token org00000 2>&1 >/dev/null | grep -c 'http request' || true)
	printf '%-8s %10.0f %10.0f %6.0f MiB %s\n' "$n" \
		"$(awk '{print $1*1000}' "$work/runs" | median)" \
		"$(awk '{print ($2+$3)*1000}' "$work/runs" | median)" \
		"$(awk '{if ($4>m) m=$4} END {print m/1024}' "$work/runs")" "$requests"
done
