#!/bin/sh
# Times a warm `connform token NAME` (its token cached, its connection in
# the evaluation cache) on configurations of 100 and 10,000 connections as
# bench/gen writes them, against the built-in emulator. The target is under
# 20 ms at any size. Prints N, the mean wall and CPU time of RUNS runs, the
# peak RSS, and how many HTTP requests a warm run made (0 is right).
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

printf '%-8s %10s %10s %10s %s\n' N "wall (ms)" "CPU (ms)" "peak RSS" "requests"
for n in $SIZES; do
	dir="$work/cfg$n"
	mkdir "$dir"
	"$work/gen" -emu-info "$work/emu.json" "$n" "$dir"
	# Cold: evaluates everything, gets a token from the emulator, caches.
	(cd "$dir" && "$work/connform" token org00000 >/dev/null)
	# All runs under one timer: a run takes milliseconds, below time's
	# resolution; the figures are the mean per run.
	/usr/bin/time -f '%e %U %S %M' -o "$work/t" sh -c "cd '$dir' && for i in \$(seq $RUNS); do '$work/connform' token org00000 >/dev/null || exit 1; done"
	requests=$(cd "$dir" && CONNFORM_LOG=debug "$work/connform" token org00000 2>&1 >/dev/null | grep -c 'http request' || true)
	awk -v n="$n" -v runs="$RUNS" -v req="$requests" '{printf "%-8s %10.1f %10.1f %6.0f MiB %s\n", n, $1*1000/runs, ($2+$3)*1000/runs, $4/1024, req}' "$work/t"
done
