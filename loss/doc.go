// Package loss computes training losses and their gradients, matching
// PyTorch's torch.nn loss modules to float32 precision.
//
// # Shape of the API
//
// Every loss is a plain function over flat float32 slices:
//
//	value := loss.MSE(grad, pred, target, loss.Options{})
//
// It returns the loss as a float64 (sums are accumulated in float64) and,
// when grad is not nil, overwrites grad (same length as the prediction)
// with dL/dpred. Inputs are never mutated. Passing nil for grad evaluates
// the loss only, for validation.
//
// Regression losses ([MSE], [L1], [Huber], [SmoothL1]) and [BCEWithLogits]
// treat the prediction as n elements. Classification losses
// ([CrossEntropy], [CrossEntropyProbs], [NLL]) take N rows of C scores,
// row-major (N, C); a recurrent model's (T, B, C) output is simply T·B rows.
//
// # Reductions and masks
//
// [Mean] (the zero value of [Reduction]) divides by the number of elements
// that count; [Sum] does not divide. A mask excludes padded positions from
// both the sum and the mean's denominator, and their gradient is zero:
// Options.Mask has one entry per group of n/len(Mask) consecutive elements
// (for a (T, B, F) prediction a mask of T·B steps covers the F features of
// each step), and ClassOptions.Mask has one entry per row. [LengthMask]
// builds a time-major (T, B) mask from sequence lengths.
//
// PyTorch's conventions are followed exactly: L1's gradient at an exact tie
// is 0; cross-entropy's mean divides by the summed class weights of the
// counted rows, with label smoothing too; BCE uses the softplus form so that
// logits of ±800 stay finite.
//
// # On the tape
//
// [Record] puts any of these losses on an [nn.Tape]: it returns a scalar
// Var, and Backward on it adds the gradient into the prediction's Var.
//
// Mismatched lengths, bad class indices and empty inputs are programmer
// errors and panic with a "loss: " message.
package loss
