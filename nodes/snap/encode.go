package snap

import (
	"github.com/etcdsim/etcdsim/nodes/record"
	"go.etcd.io/raft/v3/raftpb"
)

// encode returns s as one record: version, index, term, the four ConfState
// lists (count then ids), auto-leave, then the data.
func encode(s *raftpb.Snapshot) []byte {
	md := s.GetMetadata()
	cs := md.GetConfState()
	n := 1 + 8 + 8 + 4*4 + 8*(len(cs.GetVoters())+len(cs.GetLearners())+
		len(cs.GetVotersOutgoing())+len(cs.GetLearnersNext())) + 1 + len(s.GetData())
	buf, start := record.Begin(make([]byte, 0, record.Size(n)))
	buf = append(buf, version)
	buf = le.AppendUint64(buf, md.GetIndex())
	buf = le.AppendUint64(buf, md.GetTerm())
	for _, ids := range [][]uint64{cs.GetVoters(), cs.GetLearners(), cs.GetVotersOutgoing(), cs.GetLearnersNext()} {
		buf = le.AppendUint32(buf, uint32(len(ids)))
		for _, id := range ids {
			buf = le.AppendUint64(buf, id)
		}
	}
	auto := byte(0)
	if cs.GetAutoLeave() {
		auto = 1
	}
	buf = append(append(buf, auto), s.GetData()...)
	record.Finish(buf, start)
	return buf
}

// decode parses a payload that encode wrote; ok is false if it is malformed.
func decode(p []byte) (*raftpb.Snapshot, bool) {
	if len(p) < 17 || p[0] != version {
		return nil, false
	}
	index, term := le.Uint64(p[1:9]), le.Uint64(p[9:17])
	p = p[17:]
	var lists [4][]uint64
	for i := range lists {
		if len(p) < 4 {
			return nil, false
		}
		n := uint64(le.Uint32(p))
		p = p[4:]
		if n > uint64(len(p))/8 {
			return nil, false
		}
		for range n {
			lists[i] = append(lists[i], le.Uint64(p))
			p = p[8:]
		}
	}
	if len(p) < 1 || p[0] > 1 {
		return nil, false
	}
	cs := &raftpb.ConfState{
		Voters: lists[0], Learners: lists[1], VotersOutgoing: lists[2], LearnersNext: lists[3],
		AutoLeave: new(p[0] == 1),
	}
	s := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{ConfState: cs, Index: new(index), Term: new(term)}}
	if len(p) > 1 {
		s.Data = p[1:len(p):len(p)]
	}
	return s, true
}
