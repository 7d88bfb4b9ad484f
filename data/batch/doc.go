// Package batch turns lists of token-id sequences into padded batches for
// recurrent models, and delivers them epoch by epoch from a prefetching
// loader.
//
// # Batches
//
// A [Batch] holds B sequences right-padded to the longest one, stored
// batch-first as (B, T) with [Batch.TimeMajor] giving the (T, B) layout;
// the true lengths travel with it so recurrent layers can stop each
// sequence at its own end, and [Batch.Mask] gives the loss mask. [Pad] is
// the underlying function, with truncation to a maximum length.
//
// # Loader
//
// A [Loader] plans each epoch as a pure function of (dataset, [Config],
// epoch): optional seeded shuffling, optional bucketing by length (sort
// within buckets of Bucket·B examples, then shuffle the batches), and
// drop-last. [Loader.Iter] builds the batches in a goroutine, at most
// Prefetch ahead of the trainer, in plan order whatever the timing; it
// stops at the end of the epoch, on context cancellation or on Close,
// and leaves no goroutine behind. A [Cursor] (epoch, step) saved in a
// checkpoint resumes training mid-epoch with exactly the batches an
// uninterrupted run would have seen.
//
//	loader, err := batch.NewLoader(&batch.Dataset{Seqs: ids, Labels: labels},
//		batch.Config{BatchSize: 32, Shuffle: true, Seed: 1, Bucket: 50})
//	it, err := loader.Iter(ctx, cursor)
//	defer it.Close()
//	for it.Next() {
//		b := it.Batch() // b.TimeMajor(nil), b.Lengths, b.Labels
//		cursor = it.Cursor()
//	}
//	err = it.Err()
//
// Language-model data, cut into contiguous streams rather than
// independent examples, is batched by data/text's Streams instead.
package batch
