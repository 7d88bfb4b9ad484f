// Package optim updates parameters from their gradients: optimizers with
// parameter groups and exportable state, gradient clipping, gradient
// accumulation, regularizers and NT-ASGD, each matching PyTorch 1.13.
//
// # Optimizers
//
// [New] builds an optimizer by name (sgd, rmsprop, adam, adamw, adagrad,
// adadelta, or PyTorch's class names) from a [Config] whose zero fields are
// PyTorch's defaults; an unknown name or an out-of-range hyperparameter is
// an error naming the field and the value ([ConfigError]). [NewGroups]
// takes several [Group]s, each with its own learning rate, weight decay and
// frozen flag (nanoGPT's two groups: decay for matrices, none for biases).
//
//	opt, err := optim.New("adam", model.Params(), optim.Config{LR: 1e-3})
//	...
//	nn.ZeroGrad(params)
//	// forward, loss, tp.Backward
//	optim.ClipGradNorm(params, 1, 2)
//	opt.Step()
//
// Step updates every parameter that is not Frozen and not in a frozen
// group, and leaves the gradients alone. The optimizer owns its state
// (momentum buffers, moment estimates, per-parameter step counts); [State]
// exports it keyed by parameter name with PyTorch's buffer names, and
// LoadState restores it, so a checkpoint survives rebuilding the model.
// Parameters are float32; each update's arithmetic is done in float64 per
// element and the bias corrections in float64, which keeps five-step traces
// within 1e-6 relative of PyTorch's float64 ones.
//
// PyTorch's conventions are kept: SGD's momentum buffer is the gradient
// itself on the first step (no dampening), RMSprop adds eps outside the
// square root, coupled weight decay adds wd·p to the gradient while AdamW
// multiplies p by 1 − lr·wd before the Adam update.
//
// # Clipping and checks
//
// [ClipGradNorm] scales by min(1, max/(norm+1e-6)) and returns the norm
// before clipping (any p, including +Inf); [GradNorms] gives each
// parameter's norm and the total that [ClipToNorm] then clips.
// [ClipGradValue] clamps. [CheckFinite] names the parameter with a NaN or
// Inf gradient. Gradient accumulation is train.Config.Accum (or
// train.Trainer.Step with several batches).
//
// # Regularization
//
// L2 is weight decay (coupled in every optimizer, decoupled in AdamW).
// [L1Penalty] adds λ·Σ|p| and its subgradient; [ActivationReg] adds AR and
// TAR (Merity et al.) on a recurrent layer's output; [GradNoise] adds
// annealed Gaussian noise to the gradients. [NTASGD] switches SGD to
// iterate averaging when the validation metric stops improving.
//
// LR schedules live in the sub-package sched, the LR range test in lrfind.
package optim
