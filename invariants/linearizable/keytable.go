package linearizable

import "unsafe"

// keyTable numbers keys in the order they are added: an open-addressing
// hash table over the few keys a history names, which the check looks up
// at every key a request names. A key of up to 8 bytes is found by its
// bytes packed in a word, without comparing strings. The requests of a
// history often share their key slices (a client's table of key names):
// a slice found before is found again by its address and length (the
// history is not written during a check).
type keyTable struct {
	keys   []string
	slots  []keySlot // a power of two long, at most half full
	recent [64]keySeen
}

// keySeen is a key slice found before, and its key's number.
type keySeen struct {
	p   *byte
	n   int32
	num int32 // 1 + the number; 0: none
}

type keySlot struct {
	tag uint64 // keyTag of the key
	n   int32  // the key's length
	num int32  // 1 + the key's number; 0: an empty slot
}

// keyTag returns k's bytes packed in a word if k is 8 bytes long or less
// (then tag and length tell k), else its FNV-1a hash.
func keyTag[K string | []byte](k K) uint64 {
	var w uint64
	if len(k) <= 8 {
		for i := len(k) - 1; i >= 0; i-- {
			w = w<<8 | uint64(k[i])
		}
		return w
	}
	w = 14695981039346656037
	for i := 0; i < len(k); i++ {
		w = (w ^ uint64(k[i])) * 1099511628211
	}
	return w
}

// home returns the slot a tag's search starts at.
func (t *keyTable) home(tag uint64, n int) uint64 {
	h := (tag ^ uint64(n)<<56) * 0x9e3779b97f4a7c15
	return (h ^ h>>29) & uint64(len(t.slots)-1)
}

// find returns k's number, or false if k was never added.
func (t *keyTable) find(k []byte) (int, bool) {
	p := unsafe.SliceData(k)
	r := &t.recent[uintptr(unsafe.Pointer(p))>>3%uintptr(len(t.recent))]
	if r.p == p && int(r.n) == len(k) && r.num != 0 {
		return int(r.num - 1), true
	}
	if len(t.slots) == 0 {
		return 0, false
	}
	tag, mask := keyTag(k), uint64(len(t.slots)-1)
	for i := t.home(tag, len(k)); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.num == 0 {
			return 0, false
		}
		if s.tag == tag && int(s.n) == len(k) && (len(k) <= 8 || t.keys[s.num-1] == string(k)) {
			*r = keySeen{p, int32(len(k)), s.num}
			return int(s.num - 1), true
		}
	}
}

// add adds k, if not there yet (a copy of it).
func (t *keyTable) add(k []byte) {
	if _, ok := t.find(k); !ok {
		t.insert(string(k))
	}
}

// newKeyTable returns the table of keys, distinct, numbered in order.
func newKeyTable(keys []string) *keyTable {
	t := &keyTable{}
	for _, k := range keys {
		t.insert(k)
	}
	return t
}

// insert adds k, which is not there yet.
func (t *keyTable) insert(k string) {
	if 2*(len(t.keys)+1) > len(t.slots) {
		t.slots = make([]keySlot, max(16, 2*len(t.slots)))
		for i := range t.keys {
			t.place(i)
		}
	}
	t.keys = append(t.keys, k)
	t.place(len(t.keys) - 1)
}

// place puts key i in the first empty slot from its home on.
func (t *keyTable) place(i int) {
	k := t.keys[i]
	tag, mask := keyTag(k), uint64(len(t.slots)-1)
	j := t.home(tag, len(k))
	for t.slots[j].num != 0 {
		j = (j + 1) & mask
	}
	t.slots[j] = keySlot{tag: tag, n: int32(len(k)), num: int32(i + 1)}
}
