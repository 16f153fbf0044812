package swarm

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/sim"
)

func runWorld(t *testing.T, seed uint64) *sim.Report {
	t.Helper()
	rep, err := sim.Run(sim.Config{Seed: seed, Members: 3, Duration: 2 * time.Second, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestResultRoundTrips(t *testing.T) {
	pass := runWorld(t, 1)
	pass.Violation = nil
	fail := runWorld(t, 2)
	fail.Violation = &invariants.Violation{Name: "commit-atomicity", Detail: "m2 differs\nsecond line"}
	fail.Step, fail.At = 4321, 1500*time.Millisecond
	for _, rep := range []*sim.Report{pass, fail} {
		r := ResultOf(rep, 12345*time.Microsecond)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseResult(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("round trip:\n%+v\n%+v", r, back)
		}
		if r.Outcome != rep.Outcome() || r.WallMs != 12.345 || r.Detail != oneLine(r.Detail) {
			t.Errorf("fields: %+v", r)
		}
		// The line holds everything a seed file needs.
		sf, err := back.SeedFile()
		if err != nil {
			t.Fatal(err)
		}
		want := sim.NewSeedFile(rep, "")
		sf.Description = ""
		if sf.String() != want.String() {
			t.Errorf("seed file from the line:\n%s\nfrom the report:\n%s", sf, want)
		}
	}
}

func TestMalformedResultLines(t *testing.T) {
	good, _ := json.Marshal(ResultOf(runWorld(t, 3), 0))
	if _, err := ParseResult(good); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`not json`,
		`{"seed":1}`,
		`{"seed":"x"}`,
		string(good[:len(good)-3]),
	} {
		if _, err := ParseResult([]byte(line)); err == nil {
			t.Errorf("%s: accepted", line)
		}
	}
	var r Result
	json.Unmarshal(good, &r)
	for _, bad := range []func(*Result){
		func(r *Result) { r.Outcome = "fail:x" },
		func(r *Result) { r.Outcome, r.Invariant = "fail:nosuch", "nosuch" },
		func(r *Result) { r.Trace = "xyz" },
		func(r *Result) { r.Faults = "bogus=1/2" },
		func(r *Result) { r.Bug = "nosuch" },
		func(r *Result) { r.Members = 0 },
	} {
		c := r
		bad(&c)
		if c.Check() == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
}

// A worker crash records the fault line the seed would have run with.
func TestSwarmFaultsMatchTheWorld(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		cfg := sim.Config{Seed: seed, Members: 3, Duration: time.Second, MaxSteps: 1}
		rep, err := sim.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := sim.WorldFaults(cfg); got != rep.Faults {
			t.Fatalf("seed %d: WorldFaults %v, the world ran %v", seed, got, rep.Faults)
		}
	}
}

// Every counter of sim.Stats reaches the JSON line.
func TestResultHasEveryStat(t *testing.T) {
	var rep sim.Report
	st := reflect.ValueOf(&rep.Stats).Elem()
	want := map[float64]string{}
	for i := range st.NumField() {
		st.Field(i).SetUint(uint64(1000 + i))
		want[float64(1000+i)] = st.Type().Field(i).Name
	}
	b, _ := json.Marshal(ResultOf(&rep, 0))
	var line map[string]any
	json.Unmarshal(b, &line)
	for _, v := range line {
		if f, ok := v.(float64); ok {
			delete(want, f)
		}
	}
	for _, name := range want {
		t.Errorf("sim.Stats.%s is not in the JSON line", name)
	}
}

// TestTakeModeWorld: a bug mode's world fills every flag the user did not
// set, churn included, and a flag the user set stays.
func TestTakeModeWorld(t *testing.T) {
	w := World{Bug: "promote-forward-auth", Members: 3, Rate: 100, Workload: "default"}
	name := w.TakeModeWorld(func(flag string) bool { return flag == "members" })
	if name != "3 members, auth, churn to 5" || w.Churn != 5 || w.Workload != "auth" || w.Members != 3 {
		t.Errorf("got %q %+v", name, w)
	}
	w = World{Bug: "bootstrap-not-durable", Members: 3, Rate: 100, Workload: "default"}
	if w.TakeModeWorld(func(string) bool { return false }); w.Members != 1 || w.Faults == "" {
		t.Errorf("bootstrap-not-durable: %+v", w)
	}
	w = World{Bug: "none", Members: 3}
	if name := w.TakeModeWorld(func(string) bool { return false }); name != "" || w.Members != 3 {
		t.Errorf("none: %q %+v", name, w)
	}
}
