package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/etcdsim/etcdsim/sim"
)

// cmdMerge combines the JSON lines of swarms run anywhere (shards of one
// range, or runs of several configs) into one summary. A seed run twice in
// the same world (seed and config equal) counts once. Its exit status is
// a swarm's: 0 when every seed passed, 3 when any failed, 2 on bad input.
func cmdMerge(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("merge")
	var jsonOut, dir string
	fs.StringVar(&jsonOut, "json", "", "write the merged lines, sorted by seed, to this file")
	fs.StringVar(&dir, "out", "", "write a seed file for every failing seed into this directory")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() == 0 {
		return 0, usagef("merge: no files (etcdsim merge [--json OUT] FILE...)")
	}
	rs, err := mergeFiles(fs.Args(), stderr)
	if err != nil {
		return 0, err
	}
	out, err := newSink(jsonOut, dir)
	if err != nil {
		return 0, err
	}
	for _, r := range rs {
		if err := out.add(r); err != nil {
			out.close()
			return 0, err
		}
	}
	if err := out.close(); err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "merge: %d seeds from %d files\n", len(rs), fs.NArg())
	out.sum.write(stdout)
	if out.sum.failing > 0 {
		return sim.ExitSafety, nil
	}
	return sim.ExitClean, nil
}

// mergeFiles reads the files' results, deduplicated by seed and config,
// sorted by seed then config. A conflicting duplicate (same world, other
// outcome or trace) is kept once, from the first file, and reported.
func mergeFiles(paths []string, stderr io.Writer) ([]Result, error) {
	type seen struct {
		r     Result
		where string
	}
	byKey := map[string]seen{}
	for _, path := range paths {
		err := readResults(path, func(r Result, where string) {
			k := fmt.Sprintf("seed=%d %s", r.Seed, r.key())
			prev, dup := byKey[k]
			if !dup {
				byKey[k] = seen{r, where}
				return
			}
			if prev.r.Outcome != r.Outcome || prev.r.Trace != r.Trace {
				fmt.Fprintf(stderr, "etcdsim: merge: seed %d (%s): %s has %s trace=%s but %s has %s trace=%s; keeping the first\n",
					r.Seed, r.key(), prev.where, prev.r.Outcome, prev.r.Trace, where, r.Outcome, r.Trace)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	rs := make([]Result, 0, len(byKey))
	for _, s := range byKey {
		rs = append(rs, s.r)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Seed != rs[j].Seed {
			return rs[i].Seed < rs[j].Seed
		}
		return rs[i].key() < rs[j].key()
	})
	return rs, nil
}

// readResults calls fn with every result of a JSON lines file; a malformed
// line is bad input, named by file and line.
func readResults(path string, fn func(r Result, where string)) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("merge: %v", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			where := fmt.Sprintf("%s:%d", path, n)
			r, perr := parseResult(line)
			if perr != nil {
				return usagef("merge: %s: malformed result: %s", where, strings.TrimPrefix(perr.Error(), "json: "))
			}
			fn(r, where)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return usagef("merge: %s: %v", path, err)
		}
	}
}
