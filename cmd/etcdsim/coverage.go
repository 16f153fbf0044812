package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/swarm"
)

// coverageFlags choose what a swarm, a merge or a table prints of the
// coverage probes: a summary (the default), the whole table, or one probe.
type coverageFlags struct {
	all   bool
	probe string
}

func (cf *coverageFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&cf.all, "coverage", false, "print the whole coverage table (every probe, its seeds and hits)")
	fs.StringVar(&cf.probe, "probe", "", "print one coverage probe's seeds and hits (a name from --coverage)")
}

// check rejects a probe name that does not exist, with the nearest one.
func (cf *coverageFlags) check(cmd string) error {
	if cf.probe == "" {
		return nil
	}
	if _, ok := nodes.ParseProbe(cf.probe); ok {
		return nil
	}
	var names []string
	for _, p := range nodes.Probes() {
		names = append(names, p.String())
	}
	if s := nearest(cf.probe, names); s != "" {
		return usagef("%s: unknown probe %q; did you mean %q? (--coverage lists them)", cmd, cf.probe, s)
	}
	return usagef("%s: unknown probe %q (--coverage lists them)", cmd, cf.probe)
}

// write prints the coverage as the flags ask.
func (cf *coverageFlags) write(w io.Writer, c *swarm.Coverage) {
	switch {
	case cf.probe != "":
		p, _ := nodes.ParseProbe(cf.probe)
		h := c.Hits(p)
		fmt.Fprintf(w, "probe %s: %d of %d seeds, %d hits, first seed %d\n", p, h.Seeds, c.Seeds, h.Hits, h.First)
	case cf.all:
		c.Write(w)
	default:
		c.WriteSummary(w)
	}
}
