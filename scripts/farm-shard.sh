#!/bin/sh
# farm-shard.sh runs one shard of a farmed swarm: the command every task of a
# batch engine runs (a Kubernetes Indexed Job's pod, a CI matrix job; see
# docs/swarm.md). A failing seed is a finding, recorded in the shard's JSON
# and seed files, not a broken task: exit 3 from the swarm counts as done.
#
# Environment:
#   SHARDS   the number of shards N (required)
#   SHARD    this task's shard, 1..N; or JOB_COMPLETION_INDEX, 0..N-1 (Kubernetes)
#   SEEDS    the seed range A..B (required)
#   RESULTS  the directory the shard writes to: shard-K.jsonl and seeds/ (required)
#   ETCDSIM  the etcdsim binary (default: etcdsim on PATH)
#   SWARM_FLAGS  more swarm flags, e.g. "--bug auth-ci --members 3 --parallel 2"
set -eu
: "${SHARDS:?SHARDS is required}" "${SEEDS:?SEEDS is required}" "${RESULTS:?RESULTS is required}"
shard=${SHARD:-$((${JOB_COMPLETION_INDEX:?SHARD or JOB_COMPLETION_INDEX is required} + 1))}
mkdir -p "$RESULTS/seeds"
rc=0
# SWARM_FLAGS is split into words on purpose.
# shellcheck disable=SC2086
"${ETCDSIM:-etcdsim}" swarm --seeds "$SEEDS" --shard "$shard/$SHARDS" \
	--json "$RESULTS/shard-$shard.jsonl" --out "$RESULTS/seeds" ${SWARM_FLAGS:-} || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
