package sim

import (
	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes"
)

// diskProbes counts what a crash image did to which kind of file: each
// in-model disk fault that hit a WAL segment, a .snap file, a received
// .snap.db, the backend (disk.CrashHits; a crash is rare, so names are
// read here).
func (c *cluster) diskProbes(fs *disk.FS) {
	for _, h := range fs.CrashHits() {
		c.probes.Hit(nodes.DiskProbe(int(h.Fault), nodes.FileKind(h.Name)))
	}
}

// replyProbes counts a client's answer: its request kind with the outcome
// ok or error, and the outcome code.
func (w *workload) replyProbes(k nodes.Kind, code nodes.Code) {
	o := nodes.OutcomeOK
	if code != nodes.OK {
		o = nodes.OutcomeError
	}
	w.probes.Hit(nodes.RequestProbe(k, o))
	w.probes.Hit(nodes.ProbeCode + nodes.Probe(code))
}
