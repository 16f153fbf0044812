package wal

import (
	"encoding/binary"

	"github.com/etcdsim/etcdsim/nodes/record"
	"go.etcd.io/raft/v3/raftpb"
)

// Record kinds, the first byte of every payload.
const (
	kindHeader byte = 1 // seq, index, metadata
	kindEntry  byte = 2 // term, index, type, data
	kindState  byte = 3 // term, vote, commit
	kindSnap   byte = 4 // index, term
)

const (
	entryFixed  = 1 + 8 + 8 + 4
	stateSize   = 1 + 8 + 8 + 8
	snapSize    = 1 + 8 + 8
	headerFixed = 1 + 8 + 8
)

var le = binary.LittleEndian

// hardState is a HardState by value.
type hardState struct {
	term, vote, commit uint64
}

func (s hardState) empty() bool { return s == hardState{} }

func stateOf(st *raftpb.HardState) hardState {
	return hardState{st.GetTerm(), st.GetVote(), st.GetCommit()}
}

func appendEntry(dst []byte, e *raftpb.Entry) []byte {
	dst, start := record.Begin(dst)
	dst = append(dst, kindEntry)
	dst = le.AppendUint64(dst, e.GetTerm())
	dst = le.AppendUint64(dst, e.GetIndex())
	dst = le.AppendUint32(dst, uint32(e.GetType()))
	dst = append(dst, e.Data...)
	record.Finish(dst, start)
	return dst
}

func appendState(dst []byte, s hardState) []byte {
	dst, start := record.Begin(dst)
	dst = append(dst, kindState)
	dst = le.AppendUint64(dst, s.term)
	dst = le.AppendUint64(dst, s.vote)
	dst = le.AppendUint64(dst, s.commit)
	record.Finish(dst, start)
	return dst
}

func appendSnap(dst []byte, m SnapMarker) []byte {
	dst, start := record.Begin(dst)
	dst = append(dst, kindSnap)
	dst = le.AppendUint64(dst, m.Index)
	dst = le.AppendUint64(dst, m.Term)
	record.Finish(dst, start)
	return dst
}

func appendHeader(dst []byte, seq, index uint64, meta []byte) []byte {
	dst, start := record.Begin(dst)
	dst = append(dst, kindHeader)
	dst = le.AppendUint64(dst, seq)
	dst = le.AppendUint64(dst, index)
	dst = append(dst, meta...)
	record.Finish(dst, start)
	return dst
}

// entryBox holds an Entry and the values its pointer fields point to, so
// that decoding one entry is one allocation, amortized over a chunk.
type entryBox struct {
	e           raftpb.Entry
	term, index uint64
	typ         raftpb.EntryType
}

// entryAlloc hands out entries from chunks; a chunk is never grown, so the
// pointers stay valid.
type entryAlloc struct {
	chunk []entryBox
}

func (a *entryAlloc) decode(p []byte) *raftpb.Entry {
	if len(a.chunk) == 0 {
		a.chunk = make([]entryBox, 256)
	}
	b := &a.chunk[0]
	a.chunk = a.chunk[1:]
	b.term = le.Uint64(p[1:9])
	b.index = le.Uint64(p[9:17])
	b.typ = raftpb.EntryType(le.Uint32(p[17:21]))
	b.e.Term, b.e.Index, b.e.Type = &b.term, &b.index, &b.typ
	if len(p) > entryFixed {
		b.e.Data = p[entryFixed:len(p):len(p)]
	}
	return &b.e
}
