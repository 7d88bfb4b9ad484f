package benchrun_test

import (
	"fmt"

	"github.com/recur-ml/recur/internal/benchrun"
)

// The PTB-small language model: FLOPs of one training step, the share of
// the 200×10k decoder, and the memory floor a step cannot go below.
func ExampleConfig_Flops() {
	cs, err := benchrun.Select("ptb-lm")
	if err != nil {
		panic(err)
	}
	c := cs[0]
	total, lstm := c.Flops()
	fmt.Println(c.Describe())
	fmt.Printf("%.2f GFLOP per step, decoder %.0f%%\n", total/1e9, 100*(1-lstm/total))
	fmt.Printf("%d parameters, at least %.1f MB\n", c.Params(), float64(c.MinBytes())/(1<<20))
	// Output:
	// T35 B20 E200 H200 L2 V10000
	// 11.09 GFLOP per step, decoder 76%
	// 4653200 parameters, at least 104.6 MB
}
