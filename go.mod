module github.com/etcdsim/etcdsim

go 1.26

require (
	github.com/google/btree v1.1.3
	go.etcd.io/raft/v3 v3.7.0
	google.golang.org/protobuf v1.36.11
	pgregory.net/rapid v1.3.0
)
