#!/usr/bin/env bash
# The long form of the reliability suite (internal/reliability): 2,000
# idle connections, 24 kill -9 trials, slow bodies, and the load test at
# 1, 8 and 64 clients, whose lines ("load classify clients 8: ...") go to
# BENCHMARKS.md with the date and the machine. Loopback only; about five
# minutes on two cores. Run it on a quiet machine: the load figures are
# throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# $(date -u +%Y-%m-%d) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
RECUR_RELIABILITY=long go test -count=1 -v -timeout 30m ./internal/reliability 2>&1 |
  grep -E '^(load |--- |ok|FAIL|PASS)|peak RSS|kills|refused in'
