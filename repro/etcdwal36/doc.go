// Package etcdwal36 holds a reproduction, against etcd v3.6's own WAL code
// (go.etcd.io/etcd/server/v3/storage/wal), of a restart failure that
// etcdsim's member model found with seed 7007722: a follower that persists
// a received snapshot and then loses power while the entries and HardState
// of the same raft Ready are being written cannot be restarted, because
// bootstrap opens the WAL at an older snapshot and ReadAll meets an entry
// past a gap (wal.ErrSliceOutOfRange), which bootstrap does not repair.
//
// Everything lives in the tests; see wal_test.go and ../README.md.
package etcdwal36
