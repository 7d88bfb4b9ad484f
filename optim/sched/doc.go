// Package sched holds learning-rate schedules: pure functions of the step
// where PyTorch's schedulers are, and [Plateau], an object fed a
// validation metric, where they are not.
//
// # Steps
//
// A [Schedule] maps (base LR, k) to the LR used by training step k, where k
// counts the scheduler steps taken so far, exactly as PyTorch's loop
// "train step k, then scheduler.step()" sees it: LR(base, 0) is the LR
// right after construction. Being pure, a schedule needs no state in a
// checkpoint beyond the step number, and can be plotted or tested
// without an optimizer. [Apply] sets every group of an optimizer from its
// own base LR (and the momentum, for [OneCycle]).
//
//	s, err := sched.New("onecycle", sched.Config{MaxLR: 0.1, TotalSteps: 1000})
//	bases := sched.BaseLRs(opt)
//	for k := 0; k < 1000; k++ {
//		sched.Apply(opt, s, bases, k)
//		// train step k
//	}
//
// The closed forms follow PyTorch 1.13 (which computes several
// recursively; the difference is rounding): [Step], [MultiStep],
// [Exponential], [Linear] (warmup), [Cosine] (which, like PyTorch's, keeps
// following the cosine after TMax), [WarmRestarts], [OneCycle] (cos or
// linear, two or three phases, cycling momentum inversely),
// [Polynomial], [Constant], and [Sequential], which switches schedules at
// milestones and restarts each from step 0, as SequentialLR does.
//
// [New] builds a schedule by name from a [Config] and reports an unknown
// name or an out-of-range field as an error naming the field and value.
package sched
