package lease

import "fmt"

// DescribeRecord says what a record of the lease bucket holds: "lease 7
// (TTL 5s)", with its checkpointed remaining TTL when it has one.
func DescribeRecord(key, value []byte) string {
	l, err := decodeLease(key, value)
	if err != nil {
		return fmt.Sprintf("lease record %x = %x", key, value)
	}
	if l.remaining > 0 {
		return fmt.Sprintf("lease %d (TTL %ds, remaining %ds)", l.id, l.ttl, l.remaining)
	}
	return fmt.Sprintf("lease %d (TTL %ds)", l.id, l.ttl)
}
