#!/usr/bin/env bash
# Smoke test of bench/ring.sh (make check): a tiny run on the fake Xen,
# 3 guests, must finish and print its summary with numbers. The figures
# themselves are not judged here (docs/BENCHMARKS.md).
out=$("$(dirname "$0")/ring.sh" -n 60 -g 3 -r 1 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" = 0 ] || { echo "FAIL bench/ring.sh exited $rc"; exit 1; }
printf '%s\n' "$out" | grep -E -q '^summary: one guest median [0-9]+ us; 3 guests median [0-9]+ us \(largest p99 [0-9]+ us\); another guest.s median [0-9]+ us quiet, [0-9]+ us during a flood: ratio [0-9.]+$' ||
	{ echo "FAIL no summary line"; exit 1; }
echo "ok   bench/ring.sh ran"
