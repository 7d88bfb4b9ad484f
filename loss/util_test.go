package loss

import (
	"fmt"

	"github.com/recur-ml/recur/internal/torchref"
)

func errf(c *torchref.Case, format string, args ...any) error {
	return fmt.Errorf("case %s: %s", c.Name, fmt.Sprintf(format, args...))
}
