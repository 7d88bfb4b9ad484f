package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/optim"
)

// Transfer reports what InitFrom copied.
type Transfer struct {
	Matched []string // parameters loaded from the source
	Fresh   []string // parameters kept at their initial values (absent or another shape)
}

func (t *Transfer) String() string {
	return fmt.Sprintf("%d parameters loaded (%s); %d kept fresh (%s)",
		len(t.Matched), strings.Join(t.Matched, ", "), len(t.Fresh), strings.Join(t.Fresh, ", "))
}

// InitFrom copies into m every parameter of the model file src that has
// the same name and shape, for transfer learning. A head whose output size
// differs (other classes, another horizon) keeps its fresh initialization.
func (m *Model) InitFrom(src *checkpoint.File) (*Transfer, error) {
	loaded, err := src.LoadParams(m.params, false)
	if err != nil {
		return nil, err
	}
	t := &Transfer{Matched: loaded}
	for _, p := range m.params {
		if !slices.Contains(loaded, p.Name) {
			t.Fresh = append(t.Fresh, p.Name)
		}
	}
	if len(loaded) == 0 {
		return t, fmt.Errorf("model: no parameter of the source matches this model by name and shape")
	}
	return t, nil
}

// Freeze freezes the parameters matching patterns (see nn.Freeze: a name,
// a prefix such as "rnn" or "embedding", or "prefix*"), or unfreezes them
// with frozen false. It returns how many matched, and an error naming a
// pattern that matched nothing.
func (m *Model) Freeze(frozen bool, patterns ...string) (int, error) {
	for _, pat := range patterns {
		if nn.Freeze(m.params, frozen, pat) == 0 {
			return 0, fmt.Errorf("model: freeze pattern %q matches no parameter", pat)
		}
	}
	return nn.Freeze(m.params, frozen, patterns...), nil
}

// NewOptimizer returns the named optimizer over the model's parameters.
// With lrBackbone > 0 the head ("head.*") trains with c.LR and everything
// else (embedding, recurrent stack) with lrBackbone, as two parameter
// groups; fine-tuning usually wants a smaller backbone rate.
func (m *Model) NewOptimizer(name string, c optim.Config, lrBackbone float64) (optim.Optimizer, error) {
	if lrBackbone <= 0 {
		return optim.New(name, m.params, c)
	}
	var head, body []*nn.Param
	for _, p := range m.params {
		if strings.HasPrefix(p.Name, "head.") {
			head = append(head, p)
		} else {
			body = append(body, p)
		}
	}
	bc := c
	bc.LR = lrBackbone
	return optim.NewGroups(name, []optim.Group{{Params: body, Config: bc}, {Params: head, Config: c}})
}
