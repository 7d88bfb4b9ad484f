package batch

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"
)

// lengthsDataset has n examples; example i has length 1 + (i*7)%maxLen
// and label i.
func lengthsDataset(n, maxLen int) *Dataset {
	ds := &Dataset{}
	for i := range n {
		s := make([]int, 1+(i*7)%maxLen)
		for j := range s {
			s[j] = i
		}
		ds.Seqs = append(ds.Seqs, s)
		ds.Labels = append(ds.Labels, i)
	}
	return ds
}

func flat(plan [][]int) []int { return slices.Concat(plan...) }

func TestPlan(t *testing.T) {
	ds := lengthsDataset(10, 5)
	tests := []struct {
		name  string
		cfg   Config
		sizes []int
		perm  bool // every example exactly once
	}{
		{"in order", Config{BatchSize: 4}, []int{4, 4, 2}, true},
		{"drop last", Config{BatchSize: 4, DropLast: true}, []int{4, 4}, false},
		{"shuffle", Config{BatchSize: 3, Shuffle: true, Seed: 1}, []int{3, 3, 3, 1}, true},
		{"bucket", Config{BatchSize: 2, Bucket: 2, Shuffle: true, Seed: 1}, nil, true},
		{"bucket drop last", Config{BatchSize: 4, Bucket: 2, Shuffle: true, Seed: 2, DropLast: true}, []int{4, 4}, false},
		{"bucket in order", Config{BatchSize: 3, Bucket: 5}, []int{3, 3, 3, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLoader(ds, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			plan := l.Plan(0)
			if len(plan) != l.Len() {
				t.Errorf("len(plan) = %d, Len() = %d", len(plan), l.Len())
			}
			var sizes []int
			for _, b := range plan {
				sizes = append(sizes, len(b))
			}
			if tt.sizes != nil && !slices.Equal(sizes, tt.sizes) {
				t.Errorf("batch sizes %v, want %v", sizes, tt.sizes)
			}
			if tt.perm {
				got := slices.Sorted(slices.Values(flat(plan)))
				if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
					t.Errorf("plan %v does not hold every example once", plan)
				}
			}
			if again := l.Plan(0); !slices.Equal(flat(again), flat(plan)) {
				t.Errorf("Plan(0) not deterministic: %v then %v", plan, again)
			}
		})
	}
	sh, _ := NewLoader(ds, Config{BatchSize: 3, Shuffle: true, Seed: 1})
	if slices.Equal(flat(sh.Plan(0)), flat(sh.Plan(1))) {
		t.Errorf("epochs 0 and 1 have the same order %v", sh.Plan(0))
	}
	other, _ := NewLoader(ds, Config{BatchSize: 3, Shuffle: true, Seed: 2})
	if slices.Equal(flat(sh.Plan(0)), flat(other.Plan(0))) {
		t.Errorf("seeds 1 and 2 give the same order %v", sh.Plan(0))
	}
}

func totalPadding(t *testing.T, l *Loader, epoch int) int {
	t.Helper()
	n := 0
	for _, idx := range l.Plan(epoch) {
		n += l.Make(idx).Padding()
	}
	return n
}

func TestBucketingCutsPadding(t *testing.T) {
	ds := lengthsDataset(200, 50)
	plain, _ := NewLoader(ds, Config{BatchSize: 8, Shuffle: true, Seed: 5})
	bucketed, _ := NewLoader(ds, Config{BatchSize: 8, Shuffle: true, Seed: 5, Bucket: 10})
	for epoch := range 3 {
		p, b := totalPadding(t, plain, epoch), totalPadding(t, bucketed, epoch)
		if b*3 > p {
			t.Errorf("epoch %d: padding %d with buckets, %d without; want at most a third", epoch, b, p)
		}
	}
}

// collect returns the labels of at most n batches from the cursor on.
func collect(t *testing.T, l *Loader, from Cursor, n int) (labels []int, cur Cursor) {
	t.Helper()
	it, err := l.Iter(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for k := 0; k < n && it.Next(); k++ {
		labels = append(labels, it.Batch().Labels...)
		cur = it.Cursor()
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return labels, cur
}

func TestIterMatchesPlanAndResumes(t *testing.T) {
	ds := lengthsDataset(37, 9)
	l, err := NewLoader(ds, Config{BatchSize: 4, Shuffle: true, Seed: 3, Bucket: 2, Prefetch: 3})
	if err != nil {
		t.Fatal(err)
	}
	for epoch := range 2 {
		all, cur := collect(t, l, Cursor{Epoch: epoch}, 1000)
		if !slices.Equal(all, flat(l.Plan(epoch))) {
			t.Errorf("epoch %d: iterated %v, want plan %v", epoch, all, flat(l.Plan(epoch)))
		}
		if cur != (Cursor{Epoch: epoch + 1}) {
			t.Errorf("cursor after epoch %d = %+v, want start of next epoch", epoch, cur)
		}
		first, mid := collect(t, l, Cursor{Epoch: epoch}, 3)
		if mid != (Cursor{Epoch: epoch, Step: 3}) {
			t.Errorf("cursor after 3 batches = %+v", mid)
		}
		rest, _ := collect(t, l, mid, 1000)
		if got := append(first, rest...); !slices.Equal(got, all) {
			t.Errorf("resumed epoch %d: %v, want %v", epoch, got, all)
		}
	}
	if _, err := l.Iter(context.Background(), Cursor{Step: 11}); err == nil {
		t.Error("cursor past the epoch: got nil error")
	}
}

func TestIterCancelAndClose(t *testing.T) {
	ds := lengthsDataset(100, 5)
	l, _ := NewLoader(ds, Config{BatchSize: 2, Prefetch: 2})
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	it, _ := l.Iter(ctx, Cursor{})
	if !it.Next() {
		t.Fatal("first Next returned false")
	}
	cancel()
	if it.Next() {
		t.Error("Next after cancel returned true")
	}
	if !errors.Is(it.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", it.Err())
	}
	it.Close()

	it2, _ := l.Iter(context.Background(), Cursor{})
	it2.Next()
	it2.Close() // abandon mid-epoch
	it2.Close()
	if it2.Next() {
		t.Error("Next after Close returned true")
	}

	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

func TestBucketSortsWithinBuckets(t *testing.T) {
	ds := lengthsDataset(10, 5) // lengths 1 3 5 2 4 1 3 5 2 4
	l, err := NewLoader(ds, Config{BatchSize: 2, Bucket: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, i := range flat(l.Plan(0)) {
		got = append(got, len(ds.Seqs[i]))
	}
	if want := []int{1, 2, 3, 5, 1, 3, 4, 5, 2, 4}; !slices.Equal(got, want) {
		t.Errorf("lengths in plan order %v, want %v (sorted within buckets of 4)", got, want)
	}
}
