package sim

import (
	"fmt"
	"io"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

// WriteCatalog prints the four catalogs a run's output names things from,
// one line per entry: the invariants (invariants.Catalog), the fault kinds
// of the fault line, the failpoints (nodes.Failpoint) and the bug modes
// (nodes.Catalog).
func WriteCatalog(w io.Writer) {
	fmt.Fprintln(w, "invariants:")
	for _, in := range invariants.Catalog {
		fmt.Fprintf(w, "  %-28s %s\n", in.Name, in.Description)
	}
	fmt.Fprintln(w, "fault kinds:")
	for _, rf := range ratioFields {
		fmt.Fprintf(w, "  %-28s %s\n", rf.name, rf.desc)
	}
	fmt.Fprintln(w, "failpoints:")
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		fmt.Fprintf(w, "  %-36s %s\n", fp, fp.Description())
	}
	fmt.Fprintln(w, "bug modes:")
	for _, b := range nodes.Catalog() {
		fmt.Fprintf(w, "  %-28s %s (etcd %s)\n", b.Name, b.Mechanism, b.Issue)
	}
}
