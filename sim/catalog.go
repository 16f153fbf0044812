package sim

import (
	"fmt"
	"io"
	"strings"

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
		catalogLine(w, string(in.Name), in.Description)
	}
	fmt.Fprintln(w, "fault kinds:")
	for _, rf := range ratioFields {
		catalogLine(w, string(rf.name), rf.desc)
	}
	fmt.Fprintln(w, "failpoints:")
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		catalogLine(w, fp.String(), fp.Description())
	}
	fmt.Fprintln(w, "bug modes:")
	for _, b := range nodes.Catalog() {
		catalogLine(w, b.Name, fmt.Sprintf("%s (etcd %s)", b.Mechanism, b.Issue))
	}
}

// catalogLine writes a name and its description, the description wrapped
// within 100 columns under itself (a long name gets a line of its own).
func catalogLine(w io.Writer, name, desc string) {
	const col, width = 30, 100
	line := fmt.Sprintf("  %-*s", col-2, name)
	if len(line) > col {
		fmt.Fprintln(w, line)
		line = strings.Repeat(" ", col)
	}
	for i, word := range strings.Fields(desc) {
		if i > 0 && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = strings.Repeat(" ", col)
		} else if i > 0 {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}
