#!/usr/bin/env bash
# The scale benchmark of issue 15: explore every scenario of this folder (or those given)
# with `--all` under every release, and print executions, distinct classes, states visited
# (when the explorer caches states), coverage and wall time per scenario and release.
#
#   scenarios/bench/run.sh [--bin PATH] [--releases "v7.0 v7.1"] [--max-executions N]
#                          [-- EXTRA EXPLORE FLAGS] [SCENARIO.toml ...]
#
# Before/after a search change, pass explore flags after `--`, e.g. `-- --threads 1 --kref
# decrement` (session 5's refcount rule) against the default `--kref release`.
# Build first: `cargo build --release -p bridgesim`. Long runs: `nice -n 10`. A row that
# hits --max-executions says "truncated" in the coverage column (never "exhaustive").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/../../target/release/bridgesim"
releases=""
max=""
extra=()
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --releases) releases=$2; shift 2 ;;
    --max-executions) max=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=("$here"/*.toml)
if [ -z "$releases" ]; then
  # Every release, as the CLI lists them (drm::Release::ALL).
  releases=$("$bin" explore --help | sed -n 's/.*a release (\([^)]*\)).*/\1/p' | tr -d ',')
fi
printf '%-34s %-6s %12s %10s %8s %9s  %s\n' scenario rules executions classes states secs coverage
total=0
for f in "${files[@]}"; do
  for r in $releases; do
    args=(explore "$f" --rules "$r" --all --json)
    [ -n "$max" ] && args+=(--max-executions "$max")
    t0=$(date +%s.%N)
    out=$("$bin" "${args[@]}" "${extra[@]}" 2>/dev/null || true)
    t1=$(date +%s.%N)
    secs=$(echo "$t1 - $t0" | bc)
    total=$(echo "$total + $secs" | bc)
    echo "$out" | jq -r --arg f "$(basename "$f" .toml)" --arg r "$r" --arg s "$secs" '
      .results[0] as $x
      | [$f, $r, ($x.stats.executions|tostring), ($x.stats.distinct_traces|tostring),
         (($x.stats.states // "-")|tostring), $s, $x.coverage.text]
      | "\(.[0])\t\(.[1])\t\(.[2])\t\(.[3])\t\(.[4])\t\(.[5])\t\(.[6])"' |
      awk -F'\t' '{printf "%-34s %-6s %12s %10s %8s %9.2f  %s\n",$1,$2,$3,$4,$5,$6,$7}'
  done
done
printf 'total %.2f s\n' "$total"
