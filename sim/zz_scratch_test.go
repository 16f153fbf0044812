package sim

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func parseScript(src string) [][2]any {
	var out [][2]any
	for _, line := range strings.Split(strings.TrimSpace(src), "\n") {
		f := strings.Fields(line)
		var args []ScenarioArg
		for _, a := range f[1:] {
			k, v, ok := strings.Cut(a, "=")
			if ok {
				args = append(args, ScenarioArg{Key: k, Vals: []string{v}})
			} else {
				args = append(args, ScenarioArg{Key: k})
			}
		}
		out = append(out, [2]any{f[0], args})
	}
	return out
}

func runScript(t *testing.T, src string) string {
	var s Scenario
	var b strings.Builder
	for _, c := range parseScript(src) {
		o, err := s.Do(c[0].(string), c[1].([]ScenarioArg))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "> %v\n%s\n", c, o)
	}
	return b.String()
}

func TestZZSearchCI(t *testing.T) {
	start := time.Now()
	for x := 20; x < 100000; x += 20 {
		src := fmt.Sprintf(`world seed=7 members=3 bug=ci-before-lock
stabilize
run for=%dus
put m=1 a=1
put m=1 b=2
run for=300ms
check`, x)
		out := runScript(t, src)
		if strings.Contains(out, "violation") {
			t.Logf("x=%dus\n%s", x, out)
			break
		}
	}
	t.Log(time.Since(start))
}

func TestZZTraceCI(t *testing.T) {
	var s Scenario
	do := func(line string) {
		c := parseScript(line)[0]
		o, err := s.Do(c[0].(string), c[1].([]ScenarioArg))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("> %s\n%s\n", line, o)
	}
	do("world seed=7 members=3 bug=ci-before-lock")
	do("stabilize")
	do("run for=72580us")
	var buf strings.Builder
	s.w.tr.w = &buf
	do("put m=1 a=1")
	do("put m=1 b=2")
	do("run for=8ms")
	do("status")
	fmt.Print(buf.String())
}

func TestZZFile(t *testing.T) {
	src, err := os.ReadFile(os.Getenv("ZZ"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Print(runScript(t, string(src)))
}

func zzBetween(t *testing.T, bug string, x int) (bool, string) {
	var s Scenario
	var b strings.Builder
	do := func(line string) string {
		c := parseScript(line)[0]
		o, err := s.Do(c[0].(string), c[1].([]ScenarioArg))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "> %s\n%s\n", line, o)
		return o
	}
	do("world seed=7 members=3 bug=" + bug)
	do("stabilize")
	do(fmt.Sprintf("run for=%dus", x))
	do("put m=1 a=1")
	do("put m=1 b=2")
	for k := 0; k < 3; k++ {
		now := s.w.q.Now()
		next := (now/(100*time.Millisecond) + 1) * 100 * time.Millisecond
		do(fmt.Sprintf("run for=%dns", (next - now).Nanoseconds()))
		st := do("status")
		if bug == "none" && strings.Contains(st, "pci=5") {
			return true, b.String()
		}
	}
	return strings.Contains(b.String(), "violation"), b.String()
}

func TestZZSearchBoth(t *testing.T) {
	for x := 20; x < 100000; x += 20 {
		ok1, o1 := zzBetween(t, "none", x)
		if !ok1 {
			continue
		}
		ok2, o2 := zzBetween(t, "ci-before-lock", x)
		if ok2 {
			t.Logf("x=%d\n%s\n%s", x, o1, o2)
			return
		}
	}
}

func TestZZTrace2(t *testing.T) {
	var s Scenario
	do := func(line string) {
		c := parseScript(line)[0]
		o, err := s.Do(c[0].(string), c[1].([]ScenarioArg))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("> %s\n%s\n", line, o)
	}
	do("world seed=7 members=3 bug=" + os.Getenv("BUG"))
	var buf strings.Builder
	s.w.tr.w = &buf
	do("stabilize")
	do("run for=73360us")
	do("put m=1 a=1")
	do("put m=1 b=2")
	do("run for=7165547ns")
	do("status")
	fmt.Print(buf.String())
}
