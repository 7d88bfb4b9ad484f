package series

import (
	"fmt"
	"strings"
)

// The policies read and write themselves as text, so that they work as
// flag.TextVar flags and in JSON or YAML configs.

var (
	missingNames = []string{"error", "drop", "ffill", "interpolate", "mean"}
	outlierNames = []string{"keep", "zscore", "iqr"}
	orderNames   = []string{"error", "sort"}
)

func policyName(names []string, v int, what string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", what, v)
}

func parsePolicy(names []string, text []byte, what string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(string(text)))
	for i, n := range names {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("series: unknown %s %q (want one of %s)", what, text, strings.Join(names, ", "))
}

func (p MissingPolicy) String() string { return policyName(missingNames, int(p), "MissingPolicy") }

// MarshalText writes error, drop, ffill, interpolate or mean.
func (p MissingPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads error, drop, ffill, interpolate or mean.
func (p *MissingPolicy) UnmarshalText(b []byte) error {
	v, err := parsePolicy(missingNames, b, "missing-value policy")
	*p = MissingPolicy(v)
	return err
}

func (p OutlierPolicy) String() string { return policyName(outlierNames, int(p), "OutlierPolicy") }

// MarshalText writes keep, zscore or iqr.
func (p OutlierPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads keep, zscore or iqr.
func (p *OutlierPolicy) UnmarshalText(b []byte) error {
	v, err := parsePolicy(outlierNames, b, "outlier policy")
	*p = OutlierPolicy(v)
	return err
}

func (p OrderPolicy) String() string { return policyName(orderNames, int(p), "OrderPolicy") }

// MarshalText writes error or sort.
func (p OrderPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads error or sort.
func (p *OrderPolicy) UnmarshalText(b []byte) error {
	v, err := parsePolicy(orderNames, b, "order policy")
	*p = OrderPolicy(v)
	return err
}
