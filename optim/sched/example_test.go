package sched_test

import (
	"fmt"

	"github.com/recur-ml/recur/optim/sched"
)

// Warmup for 3 steps, then a cosine over the remaining 6.
func ExampleSequential() {
	s, err := sched.New("sequential", sched.Config{
		Schedules: []sched.Spec{
			{Name: "linear", Config: sched.Config{StartFactor: 0.25, Iters: 3}},
			{Name: "cosine", Config: sched.Config{TMax: 6}},
		},
		Milestones: []int{3},
	})
	if err != nil {
		panic(err)
	}
	for k := 0; k < 9; k++ {
		fmt.Printf("%.3f ", s.LR(0.1, k))
	}
	fmt.Println()
	// Output: 0.025 0.050 0.075 0.100 0.093 0.075 0.050 0.025 0.007
}
