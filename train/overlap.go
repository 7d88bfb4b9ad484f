package train

import (
	"github.com/recur-ml/recur/nn"
)

// overlap sums the gradient buckets while the backward pass runs, as
// PyTorch DDP does: the tape reports each parameter whose gradient it
// has finished (nn.Tape.OnReady), and a bucket whose parameters are all
// finished goes to a goroutine that sums it over the ranks while the
// backward pass goes on below. Buckets go out strictly in their order
// (the parameters in reverse, the order backward finishes them), since
// every rank must make the same collective calls in the same order: a
// bucket finished early waits for the ones before it, and what the tape
// never reported (a rank with an empty shard runs no backward at all)
// goes out in order after the pass. The sums are the same elementwise
// as after the pass, only earlier.
type overlap struct {
	d        *dist
	bucketOf map[*nn.Param]int
	size     []int       // parameters per bucket
	left     []int       // of them not yet finished this step
	flat     [][]float32 // packing buffers of multi-parameter buckets
	next     int         // the next bucket to send
	work     chan int    // bucket indices to sum; -1 ends the step
	done     chan error  // the summing goroutine's end of a step
	running  bool
	// onReady and sumStep are o.ready and o.sum made once: a method
	// value made at each step would allocate.
	onReady func(*nn.Param)
	sumStep func()
}

func newOverlap(d *dist) *overlap {
	o := &overlap{d: d, bucketOf: map[*nn.Param]int{}, size: make([]int, len(d.buckets)), left: make([]int, len(d.buckets)),
		flat: make([][]float32, len(d.buckets)), work: make(chan int, len(d.buckets)+1), done: make(chan error, 1)}
	for k, b := range d.buckets {
		o.size[k] = len(b)
		n := 0
		for _, p := range b {
			o.bucketOf[p] = k
			n += len(p.Grad.Data)
		}
		if len(b) > 1 {
			o.flat[k] = make([]float32, n)
		}
	}
	o.onReady, o.sumStep = o.ready, o.sum
	return o
}

// start begins a step's sums: the summing goroutine waits for buckets.
func (o *overlap) start() {
	copy(o.left, o.size)
	o.next = 0
	o.running = true
	go o.sumStep()
}

// ready is the tape's report of a finished gradient.
func (o *overlap) ready(p *nn.Param) {
	k, ok := o.bucketOf[p]
	if !ok {
		return // not a trained parameter (a frozen input's, say)
	}
	o.left[k]--
	for o.next < len(o.left) && o.left[o.next] == 0 {
		o.send(o.next)
		o.next++
	}
}

// send hands bucket k to the summing goroutine, packing a bucket of
// several parameters first (their gradients are final).
func (o *overlap) send(k int) {
	if f := o.flat[k]; f != nil {
		pack(o.d.buckets[k], f)
	}
	o.work <- k
}

// finish sends the buckets not sent during the pass and waits for every
// sum.
func (o *overlap) finish() error {
	if !o.running {
		return nil
	}
	for ; o.next < len(o.left); o.next++ {
		o.send(o.next)
	}
	o.work <- -1
	o.running = false
	return <-o.done
}

// sum is the summing goroutine of one step: it sums the buckets in the
// order they come and unpacks the packed ones. After an error it only
// drains the step's buckets.
func (o *overlap) sum() {
	var err error
	for k := range o.work {
		if k < 0 {
			break
		}
		if err != nil {
			continue
		}
		err = o.d.sumBucket(o.d.buckets[k], o.flat[k])
	}
	o.done <- err
}
