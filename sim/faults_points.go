package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// pointPrefix starts a fault-line token that arms one failpoint by its
// gofail name, as etcd's robustness tests arm one per run:
// "fp.raftBeforeApplySnap=1/2" crashes at that point one pass in two.
const pointPrefix = "fp."

// setPoint reads one "fp.<name>=<rate>" token.
func (f *Faults) setPoint(name, val string) error {
	fp, ok := nodes.ParseFailpoint(strings.TrimPrefix(name, pointPrefix))
	if !ok {
		return fmt.Errorf("sim: unknown failpoint %q in the fault line (etcdsim catalog lists them)",
			strings.TrimPrefix(name, pointPrefix))
	}
	r, err := prob.Parse(val)
	if err != nil {
		return fmt.Errorf("sim: fault %s: %v", name, err)
	}
	if r.Zero() {
		return fmt.Errorf("sim: fault %s: a failpoint armed at rate 0 never fires", name)
	}
	f.Points[fp] = r
	return nil
}

// pointsString prints the armed failpoints, in the failpoints' order.
func (f *Faults) pointsString() []string {
	var out []string
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		if r := f.Points[fp]; !r.Zero() {
			out = append(out, pointPrefix+fp.String()+"="+r.String())
		}
	}
	return out
}

// armPoints arms the failpoints the fault line names, at their rates,
// after the swarm's own picks (no draw: a line without them runs as
// before).
func (o *options) armPoints() {
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		if r := o.faults.Points[fp]; !r.Zero() {
			o.fpRate[fp] = r
			// A point the line arms fires at the line's rate, not a
			// share of the path's (sharePath), the whole run.
			o.pathArmed = slices.DeleteFunc(o.pathArmed, func(p nodes.Failpoint) bool { return p == fp })
			o.failpoints = append(o.failpoints, fp.String()+"@"+r.String())
		}
	}
}
