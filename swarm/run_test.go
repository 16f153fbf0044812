package swarm

import (
	"reflect"
	"testing"
)

// TestSwarmSameWhateverParallel: the results of a swarm, wall-clock
// readings aside, do not depend on how many workers ran it, nor on which
// worker ran which seed with which seed queued behind it.
func TestSwarmSameWhateverParallel(t *testing.T) {
	for _, bug := range []string{"none", "ack-before-wal-sync"} {
		var want []Result
		for _, p := range []int{1, 2, 3} {
			rs := swarmOf(t, 1, 10, bug, testOptions(t, p))
			for i := range rs {
				rs[i].WallMs, rs[i].LinMs = 0, 0
			}
			if p == 1 {
				want = rs
				continue
			}
			for i := range rs {
				if !reflect.DeepEqual(rs[i], want[i]) {
					t.Errorf("%s seed %d with --parallel %d:\n%+v\nwith --parallel 1:\n%+v", bug, rs[i].Seed, p, rs[i], want[i])
				}
			}
		}
	}
}
