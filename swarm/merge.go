package swarm

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Conflict is a seed that two files ran in the same world with another
// outcome or trace: a determinism bug, or files from different builds.
// Merge keeps the first.
type Conflict struct {
	Kept, Dropped     Result
	KeptAt, DroppedAt string // file:line
}

// Merge reads the results of JSON lines files (shards of one range, or
// runs of several worlds), deduplicated by seed and world (Result.Key)
// and sorted by seed, then world. A seed run twice in the same world
// counts once: a re-run shard is harmless. Each conflicting duplicate is
// handed to conflict (which may be nil). Errors begin "merge: ".
func Merge(paths []string, conflict func(Conflict)) ([]Result, error) {
	type seen struct {
		r     Result
		where string
	}
	byKey := map[string]seen{}
	for _, path := range paths {
		err := ReadFile(path, func(r Result, where string) {
			k := fmt.Sprintf("seed=%d %s", r.Seed, r.Key())
			prev, dup := byKey[k]
			if !dup {
				byKey[k] = seen{r, where}
				return
			}
			if (prev.r.Outcome != r.Outcome || prev.r.Trace != r.Trace) && conflict != nil {
				conflict(Conflict{Kept: prev.r, KeptAt: prev.where, Dropped: r, DroppedAt: where})
			}
		})
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
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
		return rs[i].Key() < rs[j].Key()
	})
	return rs, nil
}

// ReadFile calls fn with every result of a JSON lines file and its place,
// "path:line". A malformed line (see ParseResult) is an error that names
// the file and line.
func ReadFile(path string, fn func(r Result, where string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			where := fmt.Sprintf("%s:%d", path, n)
			r, perr := ParseResult(line)
			if perr != nil {
				return fmt.Errorf("%s: malformed result: %s", where, strings.TrimPrefix(perr.Error(), "json: "))
			}
			fn(r, where)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
}
