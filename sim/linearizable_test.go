package sim

import (
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

func TestSerializableMonotonic(t *testing.T) {
	read := func(proc int, member uint64, call, ret int64, rev int64) Op {
		return Op{Proc: proc, Member: member, Req: &nodes.Request{Kind: nodes.KindRange, Serializable: true},
			Call: Duration(call), Return: Duration(ret), Result: nodes.Result{Rev: rev}}
	}
	ok := []Op{read(1, 1, 1, 2, 5), read(1, 1, 3, 4, 5), read(1, 2, 5, 6, 3), read(2, 1, 7, 8, 1), read(1, 1, 9, 0, 0)}
	if d := serializableMonotonic(ok); d != "" {
		t.Fatalf("other members, other clients and requests in flight may differ: %s", d)
	}
	bad := append(ok, read(1, 1, 11, 12, 4))
	if d := serializableMonotonic(bad); !strings.Contains(d, "client 1 from m1 went back in revision: 5") {
		t.Fatalf("a client's reads from one member went back, unnoticed: %q", d)
	}
}
