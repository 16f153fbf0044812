#!/usr/bin/env bash
# scaling.sh measures how a swarm scales with its workers (make scaling): the
# seeds per second that `etcdsim swarm` prints for --parallel 1 and for
# --parallel P over the same seeds, in interleaved rounds, then the ratio of
# the median rates. The load average before each run is printed beside it:
# other work on the machine spoils the ratio, so read it on a quiet machine.
#
#   scripts/scaling.sh ETCDSIM [SEEDS] [ROUNDS] [P]   (defaults 1..300, 3, 2)
set -euo pipefail
bin=${1:?usage: scaling.sh ETCDSIM [SEEDS] [ROUNDS] [P]}
seeds=${2:-1..300}
rounds=${3:-3}
p=${4:-2}
rate() { # a swarm exits 3 when a seed failed: that is a finding, not a failure here
	local out
	out=$("$bin" swarm --seeds "$seeds" --parallel "$1") || [ $? = 3 ]
	sed -nE '1s/.*: ([0-9.]+) seeds\/s$/\1/p' <<<"$out"
}
r1=() rp=()
for r in $(seq "$rounds"); do
	for q in 1 "$p"; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		x=$(rate "$q")
		echo "round $r: --parallel $q: $x seeds/s (load average $load before)"
		if [ "$q" = 1 ]; then r1+=("$x"); else rp+=("$x"); fi
	done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m1=$(median "${r1[@]}") mp=$(median "${rp[@]}")
echo "seeds $seeds on $(nproc) cores: --parallel 1 $m1 seeds/s, --parallel $p $mp seeds/s (medians of $rounds rounds): $(awk -v a="$mp" -v b="$m1" 'BEGIN {printf "%.2f", a/b}')x"
