package linearizable

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestScratchReuse: searching the keys one after another in one scratch,
// as a worker of checkKV does, reaches the verdict each key reaches in
// arrays of its own, and a failed key's partial linearizations are the
// same (some histories have a read mutated to a value never written, and
// some searches a memory share small enough to run out).
func TestScratchReuse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := generateMaybeFailing(t)
		share := int64(rapid.SampledFrom([]int{0, 4 << 10, 64 << 10}).Draw(t, "share"))
		fresh, reused := prepare(nil, ops), prepare(nil, ops)
		sc := &scratch{}
		for i := range fresh.parts {
			fresh.build(i)
			want, wantLs := search(&fresh.parts[i], share, nil, true)
			buildWith(reused.parts, i, reused.prefix, reused.u, sc)
			got, _ := searchWith(&reused.parts[i], share, nil, false, sc)
			if got != want {
				t.Fatalf("key %s: %v in a reused scratch, %v in its own", fresh.parts[i].key, got, want)
			}
			if got == searchIllegal {
				sc = &scratch{}
				if _, ls := search(&reused.parts[i], share, nil, true); !slices.Equal(longest(ls), longest(wantLs)) {
					t.Fatalf("key %s: longest %v after a reused scratch, %v in its own", fresh.parts[i].key, longest(ls), longest(wantLs))
				}
			}
			reused.parts[i].ops = nil
		}
	})
}
