package sim

import (
	"fmt"
	"strconv"
	"time"
)

// short abbreviates a long value.
func short(v string) string {
	if len(v) <= 16 {
		return v
	}
	return fmt.Sprintf("<%d bytes>", len(v))
}

// scenarioArgs looks arguments up by key.
type scenarioArgs []ScenarioArg

func (a scenarioArgs) has(key string) bool {
	for _, arg := range a {
		if arg.Key == key {
			return true
		}
	}
	return false
}

func (a scenarioArgs) str(key, def string) string {
	for _, arg := range a {
		if arg.Key == key && len(arg.Vals) == 1 {
			return arg.Vals[0]
		}
	}
	return def
}

func (a scenarioArgs) uint(key string, def uint64) (uint64, error) {
	v := a.str(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sim: %s=%q is not a number", key, v)
	}
	return n, nil
}

func (a scenarioArgs) duration(key string, def time.Duration) (time.Duration, error) {
	v := a.str(key, "")
	if v == "" {
		if def == 0 {
			return 0, fmt.Errorf("sim: missing %s=DURATION", key)
		}
		return def, nil
	}
	return ParseDuration(v)
}

// keyValue returns the request's key argument: the first one that is not
// a known option, with its value if it has one.
func (a scenarioArgs) keyValue() (k, v string, ok bool) {
	for _, arg := range a {
		switch arg.Key {
		case "m", "size", "rev", "serializable", "n":
			continue
		}
		if len(arg.Vals) > 0 {
			v = arg.Vals[0]
		}
		return arg.Key, v, true
	}
	return "", "", false
}
