package sim

import (
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

func TestFaultLineRoundTrip(t *testing.T) {
	lines := []string{
		"none",
		"disk.torn_write=1/200 net.drop=1/100 net.partition=1/2000@stable=2s crash=1/5000",
		"disk.keep_unsynced=1/2 failpoint=1/4@fire=1/20 clock.drift=1/1",
		"disk.lying_sync=1/100 disk.bit_flip=1/3",
	}
	for _, l := range lines {
		f, err := ParseFaults(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if f.String() != l {
			t.Fatalf("%q printed back as %q", l, f.String())
		}
	}
	for seed := uint64(0); seed < 500; seed++ {
		f := DrawFaults(NewStreams(seed).Fork("faults"))
		g, err := ParseFaults(f.String())
		if err != nil {
			t.Fatalf("seed %d: %q: %v", seed, f, err)
		}
		if g != f {
			t.Fatalf("seed %d: %q round-trips to %q", seed, f, g)
		}
		if f.OutOfModel() {
			t.Fatalf("seed %d: swarm drew an out-of-model fault: %s", seed, f)
		}
	}
}

func TestFaultLineErrors(t *testing.T) {
	bad := []string{
		"crash", "crash=2/1", "bogus=1/2", "crash=1/2 crash=1/3",
		"net.partition=1/2@stable=x", "failpoint=1/2", "net.drop=1/2@stable=1s",
	}
	for _, l := range bad {
		if _, err := ParseFaults(l); err == nil {
			t.Fatalf("%q parsed", l)
		}
	}
}

func TestParseSeed(t *testing.T) {
	for s, want := range map[string]uint64{"42": 42, "0x2a": 42, "0X2A": 42, " 7 ": 7} {
		got, err := ParseSeed(s)
		if err != nil || got != want {
			t.Fatalf("%q: %d %v", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "0x", "12a", "0xzz"} {
		if _, err := ParseSeed(s); err == nil {
			t.Fatalf("%q parsed", s)
		}
	}
}

func TestQueueOrder(t *testing.T) {
	var q Queue
	q.At(5, Event{Arg: 1})
	q.At(3, Event{Arg: 2})
	q.At(5, Event{Arg: 3})
	q.At(3, Event{Arg: 4})
	var got []uint64
	for {
		e, ok := q.Pop()
		if !ok {
			break
		}
		got = append(got, e.Arg)
	}
	want := []uint64{2, 4, 1, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestStreamsForkByLabel(t *testing.T) {
	s := NewStreams(9)
	a := s.Fork("disk/m1").Uint64()
	_ = s.Fork("network").Uint64()
	if b := s.Fork("disk/m1").Uint64(); a != b {
		t.Fatal("fork depends on draw order")
	}
	if s.Fork("disk/m2").Uint64() == a {
		t.Fatal("labels share a stream")
	}
}

// TestFaultLineArmsFailpoints checks that "fp.<name>=<rate>" arms a
// failpoint, prints back, and that an unknown name is an error.
func TestFaultLineArmsFailpoints(t *testing.T) {
	f, err := ParseFaults("crash=1/300 fp.raftBeforeApplySnap=1/2")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "crash=1/300 fp.raftBeforeApplySnap=1/2" {
		t.Fatalf("printed %q", got)
	}
	o := options{faults: f}
	o.armPoints()
	if r := o.fpRate[nodes.FPBeforeApplySnap]; r.String() != "1/2" {
		t.Fatalf("raftBeforeApplySnap armed at %s", r)
	}
	if _, err := ParseFaults("fp.nosuch=1/2"); err == nil || !strings.Contains(err.Error(), `unknown failpoint "nosuch"`) {
		t.Fatalf("unknown failpoint: %v", err)
	}
}
