// Package etcdwal37 repeats the etcdwal36 reproduction against etcd v3.7.3
// (go.etcd.io/etcd/server/v3@v3.7.3). From v3.7.0 on, bootstrap no longer
// reads .snap files: server/etcdserver/bootstrap.go: recoverSnapshot builds
// the snapshot from the newest record wal.ValidSnapshotEntries keeps (etcd
// commit e74bb6a0e), and main stops writing .snap files altogether (etcd
// commit 5d1a827c1). The WAL snapshot record is still what decides where
// ReadAll starts, so the same torn write still stops the restart.
//
// Everything lives in the tests; see wal_test.go and ../README.md.
package etcdwal37
