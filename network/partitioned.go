package network

// Partitioned reports whether a two-way partition holds (one-way cuts
// aside).
func (n *Net) Partitioned() bool { return len(n.groups) > 0 }
