#!/usr/bin/env bash
# The long soak of the correct model (make soak-long): 50,000 seeds of the
# default world and 10,000 each of 1 member, 5 members, the auth workload
# and the compaction workload. Each world runs as one `swarm --shard K/N`
# process per core, the way a farm of machines would, and the shards are
# merged. A failing seed's file lands in OUT/seeds.
#
# usage: scripts/soak-long.sh BIN OUT [SCALE]   (SCALE divides the seed counts)
set -uo pipefail
bin=$1 out=$2 scale=${3:-1}
shards=$(nproc)
mkdir -p "$out/seeds"
status=0

world() { # name count flags...
	local name=$1 count=$(($2 / scale)) k pids=()
	shift 2
	for k in $(seq 1 "$shards"); do
		"$bin" swarm --seeds "1..$count" --shard "$k/$shards" --parallel 1 \
			--json "$out/$name-$k.json" --out "$out/seeds" "$@" >"$out/$name-$k.txt" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" # exit 3 (a seed failed) is a result: merge reports it
	done
	echo "== $name: $count seeds, $* (merged from $shards shards)"
	"$bin" merge "$out/$name"-*.json | tee "$out/$name.txt"
	local rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || status=$rc
}

world default 50000 --members 3
world members1 10000 --members 1
world members5 10000 --members 5
world auth 10000 --members 3 --workload auth
world compaction 10000 --members 3 --workload compaction
exit $status
