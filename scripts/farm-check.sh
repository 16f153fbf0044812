#!/usr/bin/env bash
# farm-check.sh runs the farming recipe of docs/swarm.md on this machine (make
# test): two shards through scripts/farm-shard.sh, as two pods or matrix jobs
# would, then scripts/farm-merge.sh, with local paths; one shard hunts a bug
# mode so that the merge meets failing seeds and must still exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: farm-check.sh ETCDSIM}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export ETCDSIM=$bin SHARDS=2 SEEDS=1..8 RESULTS=$dir SWARM_FLAGS="--bug ack-before-wal-sync --members 1 --duration 5s --parallel 1"
SHARD=1 sh scripts/farm-shard.sh >/dev/null
JOB_COMPLETION_INDEX=1 sh scripts/farm-shard.sh >/dev/null
sh scripts/farm-merge.sh >/dev/null || { echo "farm-check: merge failed on a run with findings" >&2; exit 1; }
lines=$(wc -l <"$dir/merged.jsonl")
[ "$lines" -eq 8 ] || { echo "farm-check: merged $lines lines, want 8" >&2; exit 1; }
grep -q '^failing' "$dir/summary.txt" || { echo "farm-check: no summary" >&2; exit 1; }
ls "$dir"/seeds/*.seed >/dev/null || { echo "farm-check: no seed files" >&2; exit 1; }
if FAIL_ON_FINDINGS=1 sh scripts/farm-merge.sh >/dev/null; then
	echo "farm-check: FAIL_ON_FINDINGS=1 passed a run with failing seeds" >&2
	exit 1
fi
rm "$dir/shard-2.jsonl"
if sh scripts/farm-merge.sh >/dev/null 2>&1; then
	echo "farm-check: merge passed with a shard missing" >&2
	exit 1
fi
echo "farm-check: ok (2 shards, 8 seeds, merged; findings exit 0; a missing shard fails)"
