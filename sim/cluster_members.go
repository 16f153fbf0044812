package sim

import (
	"fmt"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
)

// The cluster's part of membership churn (Config.Churn): each member's
// membership configuration, its transport's view of its links, the peer
// channel that carries forwarded requests, and the stop of a member that
// learns it was removed.

// peerURL is the peer URL of a machine: a replacement reuses the URL of
// the member it replaces, as etcd's robustness memberReplace does.
func peerURL(host int) string { return fmt.Sprintf("http://h%d:2380", host) }

// initialMembers is --initial-cluster of the bootstrap members: their IDs,
// peer URLs and names.
func (c *cluster) initialMembers() []nodes.ClusterMember {
	out := make([]nodes.ClusterMember, c.cfg.Members)
	for i := range out {
		id := uint64(i + 1)
		out[i] = nodes.ClusterMember{ID: id, PeerURLs: []string{peerURL(int(id))}, Name: fmt.Sprintf("m%d", id)}
	}
	return out
}

// membershipConfig sets what member i's life needs in a world that models
// membership: a joining member starts from an empty data dir with the
// member list it was added with.
func (c *cluster) membershipConfig(i int, cfg *nodes.Config) {
	m := c.members[i]
	cfg.Membership, cfg.Join, cfg.Transport = true, m.join, transport{c: c, i: i}
	if m.initial == nil {
		m.initial = c.initialMembers()
	}
	cfg.Initial = m.initial
}

// transport answers a member's questions about its peer links (etcd's
// rafthttp streams), as ActiveSince does: a link is active while both
// processes run and the network carries it both ways, since the later of
// the two starts and the network's mend of it. A crash ends it at once (the
// peer's connections are reset). A cut of the network ends it only when
// rafthttp notices: a stream reader's read times out after
// ConnReadTimeout (5 s) without a frame, and its writer sends a link
// heartbeat every ConnReadTimeout/3, so a cut mended sooner leaves the
// link active since before it, and one that lasts counts as inactive from
// ConnReadTimeout after it began (a bound: the last frame came up to a
// heartbeat before the cut) until its mend.
type transport struct {
	c *cluster
	i int
}

// connReadTimeout is rafthttp's ConnReadTimeout.
const connReadTimeout = 5 * time.Second

// ActiveFor implements nodes.Transport.
func (t transport) ActiveFor(peer uint64) (time.Duration, bool) {
	c, me := t.c, t.c.members[t.i]
	j, ok := c.byID(peer)
	if !ok || me.proc == nil || c.members[j].proc == nil || c.members[j].removed {
		return 0, false
	}
	k := linkKey(t.i, j)
	since, up := c.linkSince[k]
	if !up {
		return 0, false
	}
	start, now := max(me.upSince, c.members[j].upSince), c.q.Now()
	if at, cut := c.linkCut[k]; cut && cutEnded(at, start, now) {
		return 0, false
	}
	return now - max(start, since), true
}

// cutEnded reports whether a cut of a link at at has ended it by now,
// both processes up since start: rafthttp noticed it (ConnReadTimeout
// without a frame), or a process started during it and never connected.
func cutEnded(at, start, now time.Duration) bool {
	return now-at >= connReadTimeout || start >= at
}

// linkKey is the key of the link between two member indexes.
func linkKey(i, j int) [2]int {
	if i > j {
		i, j = j, i
	}
	return [2]int{i, j}
}

// linksChanged notes, after a change of the network, since when each link
// between two members has been carried both ways and when a link it no
// longer carries was cut (worlds with churn).
func (c *cluster) linksChanged() {
	if !c.membership {
		return
	}
	if c.linkSince == nil {
		c.linkSince, c.linkCut = map[[2]int]time.Duration{}, map[[2]int]time.Duration{}
	}
	now := c.q.Now()
	for i, a := range c.members {
		for j := i + 1; j < len(c.members); j++ {
			b := c.members[j]
			up := c.net.Deliverable(int(a.id), int(b.id)) && c.net.Deliverable(int(b.id), int(a.id))
			k := linkKey(i, j)
			_, was := c.linkSince[k]
			at, cut := c.linkCut[k]
			switch {
			case up && !was:
				c.linkSince[k] = now
			case up && cut:
				// Mended: a link rafthttp had noticed cut, or that a
				// process started during the cut, connects now.
				delete(c.linkCut, k)
				if cutEnded(at, max(a.upSince, b.upSince), now) {
					c.linkSince[k] = now
				}
			case !up && was && !cut:
				c.linkCut[k] = now
			}
		}
	}
}

// sendForwards hands member i's forwarded requests and answers to the
// network, as HTTP over the peer URLs.
func (c *cluster) sendForwards(i int, fs []nodes.Forward) {
	m, now := c.members[i], c.q.Now()
	for k := range fs {
		f := fs[k]
		j, ok := c.byID(f.To)
		if !ok {
			continue
		}
		if ts := c.net.Send(now, int(m.id), int(f.To)); len(ts) > 0 {
			c.q.At(ts[0], Event{Kind: evForward, Node: j, Arg: m.id, Data: &f})
		}
	}
}

// onForward is a forwarded request, or its answer, reaching its member.
func (c *cluster) onForward(e *Event) {
	m := c.members[e.Node]
	f := e.Data.(*nodes.Forward)
	if m.proc == nil || !c.net.Deliverable(int(e.Arg), int(m.id)) {
		return
	}
	if m.paused {
		m.held = append(m.held, *e)
		return
	}
	c.trace(e, e.Arg, f.ID, func() string { return fmt.Sprintf("m%d->m%d forward #%d", e.Arg, m.id, f.ID) })
	c.call(e.Node, func(p *nodes.Member) {
		if f.Req != nil {
			p.ServeForward(e.Arg, f.Req)
		} else {
			p.ForwardAnswered(f.ID, f.Result)
		}
	})
}

// sendRejections tells each removed peer whose message member i refused
// (etcd's 403 or 410), after the network's delay.
func (c *cluster) sendRejections(i int, ids []uint64) {
	m, now := c.members[i], c.q.Now()
	for _, id := range ids {
		j, ok := c.byID(id)
		if !ok {
			continue
		}
		if ts := c.net.Send(now, int(m.id), int(id)); len(ts) > 0 {
			c.q.At(ts[0], Event{Kind: evRemovedNotice, Node: j, Arg: c.members[j].life})
		}
	}
}

// onRemovedNotice is a removed member learning from a peer that it was
// removed (errMemberRemoved): it stops.
func (c *cluster) onRemovedNotice(e *Event) {
	m := c.members[e.Node]
	if m.proc == nil || e.Arg != m.life {
		return
	}
	c.trace(e, e.Arg, 0, func() string { return fmt.Sprintf("m%d learns it was removed", m.id) })
	c.stopRemoved(e.Node, "a peer refused it as removed")
}

// stopRemoved stops a removed member's process for good; its disk stays.
func (c *cluster) stopRemoved(i int, why string) {
	m := c.members[i]
	m.removed = true
	c.kill(i, "stopped: "+why)
	c.chk.Retire(m.id)
}

// ensureMember makes the slots of member IDs up to id, for a cluster API
// add that names it (a plan's, a scenario's): members added at runtime,
// with an empty disk and no process, not in the cluster until the add
// commits.
func (c *cluster) ensureMember(id uint64) {
	for uint64(len(c.index)) <= id && id <= maxScriptedID {
		m := c.add([2]int64{1, 1}, c.opt.diskFaults())
		m.join, m.client, m.pending = true, false, true
	}
}

// maxScriptedID bounds the member IDs a plan or a scenario adds.
const maxScriptedID = 64

// startJoined starts member i, added at runtime, for the first time, once
// the committed membership has it (a plan's or a scenario's start).
func (c *cluster) startJoined(i int) {
	m := c.members[i]
	if m.started || m.pending || m.removed {
		return
	}
	c.start(i, false)
}

// onConf follows the committed log (the reference's apply of each conf
// change): a runtime change the membership took counts as completed; an
// add brings its member into the cluster; a removal marks its member
// removed (its process stops itself, or never starts again).
func (c *cluster) onConf(_ uint64, cc *raftpb.ConfChange, err error) {
	if err != nil || cc.GetId() == 0 {
		return
	}
	c.stats.MemberChanges++
	i, ok := c.byID(cc.GetNodeId())
	if !ok {
		return
	}
	m := c.members[i]
	switch cc.GetType() {
	case raftpb.ConfChangeRemoveNode:
		m.removed, m.client = true, false
		if m.proc == nil {
			c.chk.Retire(m.id)
		}
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if m.pending {
			m.pending = false
			if c.onAdded != nil {
				c.onAdded(i)
			}
		}
	}
}
