#!/bin/sh
# farm-merge.sh merges the shards of a farmed swarm (docs/swarm.md): it checks
# that all SHARDS shard files are there, merges them into RESULTS/merged.jsonl
# and writes the summary, with the failing seeds, to RESULTS/summary.txt and
# stdout. Failing seeds are the result, not an error: it exits 0 then too,
# unless FAIL_ON_FINDINGS=1 (a CI gate on the correct model), when it exits 3.
#
# Environment: SHARDS, RESULTS (required), ETCDSIM (default: etcdsim on PATH).
set -eu
: "${SHARDS:?SHARDS is required}" "${RESULTS:?RESULTS is required}"
missing=0
k=1
while [ "$k" -le "$SHARDS" ]; do
	if [ ! -f "$RESULTS/shard-$k.jsonl" ]; then
		echo "farm-merge: $RESULTS/shard-$k.jsonl is missing" >&2
		missing=1
	fi
	k=$((k + 1))
done
[ "$missing" -eq 0 ] || exit 1
rc=0
"${ETCDSIM:-etcdsim}" merge --json "$RESULTS/merged.jsonl" "$RESULTS"/shard-*.jsonl >"$RESULTS/summary.txt" || rc=$?
cat "$RESULTS/summary.txt"
case "$rc" in
0) ;;
3) if [ "${FAIL_ON_FINDINGS:-0}" = 1 ]; then exit 3; fi ;;
*) exit "$rc" ;;
esac
