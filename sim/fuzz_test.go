package sim

import "testing"

// FuzzParseFaults: a fault line either fails to parse with an error, or
// parses into a configuration that prints back to a line that parses to
// the same configuration.
func FuzzParseFaults(f *testing.F) {
	f.Add("disk.torn_write=1/200 net.drop=1/100 net.partition=1/2000@stable=2s crash=1/5000")
	f.Add("none")
	f.Add("failpoint=1/4@fire=1/20")
	f.Fuzz(func(t *testing.T, line string) {
		fa, err := ParseFaults(line)
		if err != nil {
			return
		}
		fb, err := ParseFaults(fa.String())
		if err != nil || fa != fb {
			t.Fatalf("%q -> %q -> %v %v", line, fa.String(), fb, err)
		}
	})
}
