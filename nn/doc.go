// Package nn holds recur's layers and the tape that differentiates them.
//
// # Values and gradients
//
// A [Var] pairs a value tensor with a gradient of the same shape. A
// [Param] is a Var that an optimizer updates; it has a stable name that
// follows PyTorch's state_dict (weight_ih_l0, bias_hh_l1_reverse, ...),
// and a Frozen flag for fine-tuning.
//
// # The tape
//
// Reverse-mode differentiation works at layer granularity: a layer's
// Forward(tp, ...) computes its output and, when tp is not nil, appends one
// backward closure to the tape. [Tape.Backward] seeds the gradient of the
// result and runs the closures in reverse order; each closure reads the
// gradient of the Vars it produced and adds into the gradients of its
// inputs and parameters. A nil tape means inference: nothing is recorded,
// nothing is mutated, dropout is off, and one model can serve concurrent
// calls.
//
// Gradients accumulate (+=) so that a Var used twice receives both
// contributions; call [ZeroGrad] on the parameters before each step.
package nn
