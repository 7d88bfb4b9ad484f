package benchrun

import "testing"

// BenchmarkStep runs one step of each standard configuration (training or
// batch-one inference, as recur bench does) and reports its allocations:
//
//	go test ./internal/benchrun -run '^$' -bench Step -benchmem -memprofile mem.prof
func BenchmarkStep(b *testing.B) {
	for _, c := range Standard() {
		b.Run(c.Name, func(b *testing.B) {
			m, err := Build(c, 1)
			if err != nil {
				b.Fatal(err)
			}
			m.Step()
			m.Step()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Step()
			}
		})
	}
}
