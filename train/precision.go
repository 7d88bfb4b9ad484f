package train

import "github.com/recur-ml/recur/nn"

// Precision returns the precision the training steps run in: the
// configured one where this CPU runs it, FP32 where it was BF16 and the
// CPU has no AVX512_BF16 (nn.Precision.Effective), so that a caller can
// say so and record it with the run.
func (t *Trainer) Precision() nn.Precision { return t.cfg.Precision.Effective() }
