#!/usr/bin/env bash
# The contributor's test command: every test of the repository, under the
# race detector. It first finds what the tests need besides Go, and installs
# what is missing (Debian/Ubuntu: apt-get; it asks for sudo when not root):
#   - a C compiler, since -race needs cgo;
#   - Chromium, which the real-browser sign-in test drives.
# Nothing is skipped: without them the tests fail, saying what is missing.
# Arguments go to go test, e.g. ./test.sh -run TestScripts/lifecycle ./cmd/connform
# or ./test.sh -count=1 (every package when none is named)
set -euo pipefail
cd "$(dirname "$0")"

find_chromium() {
  if [ -n "${CONNFORM_TEST_CHROMIUM:-}" ]; then echo "$CONNFORM_TEST_CHROMIUM"; return; fi
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  done
}

missing=""
command -v "${CC:-gcc}" >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 || missing="$missing gcc"
[ -n "$(find_chromium)" ] || missing="$missing chromium"
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: the tests need:$missing (a C compiler for -race, Chromium for the browser test); install them, or set CONNFORM_TEST_CHROMIUM to a Chromium or Chrome binary" >&2
    exit 1
  fi
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
  echo "test.sh: installing$missing" >&2
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
CONNFORM_TEST_CHROMIUM="$(find_chromium)"
export CONNFORM_TEST_CHROMIUM

# Without a package argument (./... or ./cmd/connform), every package.
has_pkg=""
for a in "$@"; do case "$a" in ./*|connform|connform/*) has_pkg=1 ;; esac; done
[ -n "$has_pkg" ] || set -- "$@" ./...
exec go test -race "$@"
