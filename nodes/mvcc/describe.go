package mvcc

import (
	"fmt"
	"strconv"
)

// DescribeRecord says what a record of the key or meta bucket holds, as an
// etcd developer reads it: "revision 45: put "k03" = "v120" (created at
// 40, version 3, lease 7)", "revision 46: delete "k03"", "scheduled
// compaction at revision 30". Anything it cannot decode is printed raw.
func DescribeRecord(bucket string, key, value []byte) string {
	switch bucket {
	case KeyBucket:
		return describeKeyRecord(key, value)
	case MetaBucket:
		if rev, _, err := parseRevBytes(value); err == nil && (string(key) == ScheduledCompactKey || string(key) == FinishedCompactKey) {
			what := "scheduled"
			if string(key) == FinishedCompactKey {
				what = "finished"
			}
			return fmt.Sprintf("%s compaction at revision %d", what, rev.main)
		}
	}
	return fmt.Sprintf("%s %q = %x", bucket, key, value)
}

func describeKeyRecord(key, value []byte) string {
	rev, tomb, err := parseRevBytes(key)
	if err != nil {
		return fmt.Sprintf("key %x = %x", key, value)
	}
	at := "revision " + strconv.FormatInt(rev.main, 10)
	if rev.sub != 0 {
		at += "." + strconv.FormatInt(rev.sub, 10)
	}
	kv, err := decodeRecord(value)
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %x", at, value)
	case tomb:
		return fmt.Sprintf("%s: delete %q", at, kv.Key)
	}
	s := fmt.Sprintf("%s: put %q = %q (created at %d, version %d", at, kv.Key, kv.Value, kv.CreateRevision, kv.Version)
	if kv.Lease != 0 {
		s += fmt.Sprintf(", lease %d", kv.Lease)
	}
	return s + ")"
}
