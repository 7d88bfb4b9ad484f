package mpi

import (
	"os"
	"testing"
)

// TestMain joins the job once, so that the tests run the same under
// mpirun (the build with -tags mpi) as alone.
func TestMain(m *testing.M) {
	w, err := Init()
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.Finalize(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

var world *World

// Run under mpirun with any number of ranks (.ci/run uses 2), or alone.
func TestWorld(t *testing.T) {
	w := world
	n, r := w.Size(), w.Rank()
	if r < 0 || r >= n {
		t.Fatalf("rank %d of %d", r, n)
	}
	f32 := []float32{float32(r), 1}
	f64 := []float64{float64(r) + 0.5, 1}
	if err := w.AllreduceF32(f32); err != nil {
		t.Fatal(err)
	}
	if err := w.AllreduceF64(f64); err != nil {
		t.Fatal(err)
	}
	tri := n * (n - 1) / 2
	if f32[0] != float32(tri) || f32[1] != float32(n) || f64[0] != float64(tri)+0.5*float64(n) || f64[1] != float64(n) {
		t.Errorf("rank %d of %d: sums %v %v, want [%d %d] [%v %d]", r, n, f32, f64, tri, n, float64(tri)+0.5*float64(n), n)
	}
	b := []byte{byte(r), 0, 0}
	if err := w.Bcast(b, n-1); err != nil {
		t.Fatal(err)
	}
	if b[0] != byte(n-1) {
		t.Errorf("rank %d: Bcast from %d gave %v", r, n-1, b)
	}
	if err := w.Barrier(); err != nil {
		t.Fatal(err)
	}
	// A buffer inside a struct that holds pointers (cgo checks what a
	// pointer argument points to).
	var st struct {
		next *int
		sum  [2]float64
		hdr  [8]byte
	}
	st.sum[0] = 1
	if err := w.AllreduceF64(st.sum[:]); err != nil || st.sum[0] != float64(n) {
		t.Errorf("allreduce of a struct's field: %v, %v", st.sum, err)
	}
	if err := w.Bcast(st.hdr[:], 0); err != nil {
		t.Error(err)
	}
	// Empty buffers are no calls at all.
	if err := w.AllreduceF32(nil); err != nil {
		t.Fatal(err)
	}
}

func TestAllreduceAllocs(t *testing.T) {
	buf := make([]float32, 8)
	f64 := make([]float64, 2)
	if a := testing.AllocsPerRun(10, func() {
		world.AllreduceF32(buf)
		world.AllreduceF64(f64)
	}); a != 0 {
		t.Errorf("allreduce allocates %v times per call", a)
	}
}
