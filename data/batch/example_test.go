package batch_test

import (
	"fmt"

	"github.com/recur-ml/recur/data/batch"
)

// Bucketing groups sequences of similar length, so batches need less
// padding than random batches of the same examples.
func ExampleConfig_bucket() {
	ds := &batch.Dataset{}
	for i := range 64 {
		ds.Seqs = append(ds.Seqs, make([]int, 1+(i*37)%40))
	}
	padding := func(cfg batch.Config) int {
		l, err := batch.NewLoader(ds, cfg)
		if err != nil {
			panic(err)
		}
		total := 0
		for _, idx := range l.Plan(0) {
			total += l.Make(idx).Padding()
		}
		return total
	}
	fmt.Println("shuffled:", padding(batch.Config{BatchSize: 8, Shuffle: true, Seed: 1}))
	fmt.Println("bucketed:", padding(batch.Config{BatchSize: 8, Shuffle: true, Seed: 1, Bucket: 8}))
	// Output:
	// shuffled: 992
	// bucketed: 136
}
