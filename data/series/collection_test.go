package series

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

const longCSV = `store,month,sales
a,2024-01,10
a,2024-02,12
b,2024-01,100
a,2024-03,NA
b,2024-02,90
`

func TestReadLong(t *testing.T) {
	frames, err := ReadLong(strings.NewReader(longCSV), "sales.csv", CSVOptions{ID: "store"})
	if err != nil {
		t.Fatal(err)
	}
	if got := seriesNames(frames); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("series %q, want a, b", got)
	}
	a, b := frames[0], frames[1]
	if !slices.Equal(a.Columns, []string{"sales"}) || a.TimeName != "month" || a.Len() != 3 || b.Len() != 2 {
		t.Fatalf("a: %q time %q %d rows; b %d rows", a.Columns, a.TimeName, a.Len(), b.Len())
	}
	if got, want := a.Lines, []int{2, 3, 5}; !slices.Equal(got, want) {
		t.Errorf("a's lines %v, want %v", got, want)
	}
	if b.Values[0][1] != 90 || a.Values[0][2] == a.Values[0][2] {
		t.Errorf("values a %v b %v", a.Values[0], b.Values[0])
	}
}

func TestReadLongErrors(t *testing.T) {
	for _, c := range []struct {
		csv, id, want string
	}{
		{longCSV, "", "needs its series-id column"},
		{longCSV, "shop", `series id column: no column "shop"`},
		{"store,month,sales\na,2024-01,1\n ,2024-02,2\n", "store", "f.csv:3:"},
		{"store,month,sales\na,2024-01,1\nb,2024-02,x\n", "store", `"sales"`},
	} {
		_, err := ReadLong(strings.NewReader(c.csv), "f.csv", CSVOptions{ID: c.id})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("id %q: got %v, want %q", c.id, err, c.want)
		}
	}
	_, err := ReadLong(strings.NewReader(longCSV), "f.csv", CSVOptions{ID: "month", TimeColumn: "month"})
	if err == nil || !strings.Contains(err.Error(), "cannot also be the time column") {
		t.Errorf("id as the time column: %v", err)
	}
	_, err = ReadLong(strings.NewReader(longCSV), "f.csv", CSVOptions{ID: "store", Columns: []string{"store"}})
	if err == nil || !strings.Contains(err.Error(), "cannot be a value column") {
		t.Errorf("id as a value column: %v", err)
	}
}

func TestReadCollection(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.csv", "t,y\n1,1\n2,2\n")
	write("a.tsv", "t\ty\n1\t5\n2\t6\n3\t7\n")
	write("SOURCE.md", "not a series")
	write(".hidden.csv", "t,y\n1,1\n")
	if err := os.Mkdir(filepath.Join(dir, "folder.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "c.csv")
	if err := os.WriteFile(other, []byte("t,y\n1,9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "c.csv")); err != nil {
		t.Fatal(err)
	}
	frames, err := ReadCollection(dir, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := seriesNames(frames); !slices.Equal(got, []string{"a", "b", "c"}) || frames[0].Len() != 3 {
		t.Fatalf("series %q", got)
	}
	long := filepath.Join(t.TempDir(), "long.csv")
	if err := os.WriteFile(long, []byte(longCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if frames, err := ReadCollection(long, CSVOptions{ID: "store"}); err != nil || len(frames) != 2 {
		t.Errorf("long file: %d series, %v", len(frames), err)
	}
	for _, c := range []struct {
		path string
		opt  CSVOptions
		want string
	}{
		{long, CSVOptions{}, "needs its series-id column"},
		{dir, CSVOptions{ID: "store"}, "belongs to one long-format file"},
		{filepath.Join(dir, "none"), CSVOptions{}, "no such file"},
		{t.TempDir(), CSVOptions{}, "has no series files"},
	} {
		if _, err := ReadCollection(c.path, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: got %v, want %q", filepath.Base(c.path), c.opt, err, c.want)
		}
	}
	write("b.txt", "t,y\n1,1\n")
	if _, err := ReadCollection(dir, CSVOptions{}); err == nil || !strings.Contains(err.Error(), "would both be series") {
		t.Errorf("b.csv and b.txt: %v", err)
	}
}

func TestConcatWindows(t *testing.T) {
	f1, _ := NewFrame([]string{"y"}, [][]float64{{1, 2, 3, 4, 5}})
	f2, _ := NewFrame([]string{"v"}, [][]float64{{10, 20, 30, 40}})
	wc := WindowConfig{Lookback: 2, Horizon: 1}
	w1, err := MakeWindows(f1, WindowConfig{Lookback: 2, Horizon: 1, Index: true}, Range{0, 5})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := MakeWindows(f2, wc, Range{0, 4})
	if err != nil {
		t.Fatal(err)
	}
	w, err := ConcatWindows(w1, w2)
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float32{1, 2, 2, 3, 3, 4, 10, 20, 20, 30}
	wantY := []float32{3, 4, 5, 30, 40}
	if w.Len() != 5 || !slices.Equal(w.X.Data, wantX) || !slices.Equal(w.Y.Data, wantY) || !slices.Equal(w.Origin, []int{2, 3, 4, 2, 3}) {
		t.Errorf("X %v Y %v origins %v; want %v %v", w.X.Data, w.Y.Data, w.Origin, wantX, wantY)
	}
	w3, _ := MakeWindows(f2, WindowConfig{Lookback: 3, Horizon: 1}, Range{0, 4})
	if _, err := ConcatWindows(w1, w3); err == nil || !strings.Contains(err.Error(), "lookback 3") {
		t.Errorf("lookbacks 2 and 3: %v", err)
	}
	w2.Base = tensor.New(w2.Len(), 1, 1)
	if _, err := ConcatWindows(w1, w2); err == nil {
		t.Error("one part with a base: no error")
	}
	if _, err := ConcatWindows(); err == nil {
		t.Error("no parts: no error")
	}
}

// FuzzReadLong checks that no input makes ReadLong panic, and that every
// row read lands in exactly one series.
func FuzzReadLong(f *testing.F) {
	f.Add(longCSV, "store")
	f.Add("id,y\nx,1\ny,2\nx,3\n", "id")
	f.Add("id;t;y\n1;2020-01-01;4\n", "0")
	f.Fuzz(func(t *testing.T, text, id string) {
		frames, err := ReadLong(strings.NewReader(text), "f.csv", CSVOptions{ID: id})
		if err != nil {
			var e *Error
			if id != "" && !errors.As(err, &e) {
				t.Fatalf("error %v is not a *series.Error", err)
			}
			return
		}
		seen := map[int]bool{}
		for _, fr := range frames {
			if fr.Name == "" || fr.Len() == 0 || len(fr.Lines) != fr.Len() {
				t.Fatalf("series %q: %d rows, %d lines", fr.Name, fr.Len(), len(fr.Lines))
			}
			for _, l := range fr.Lines {
				if seen[l] {
					t.Fatalf("line %d in two series", l)
				}
				seen[l] = true
			}
		}
	})
}

// seriesNames returns the names of frames, in order.
func seriesNames(frames []*Frame) []string {
	names := make([]string, len(frames))
	for i, f := range frames {
		names[i] = f.Name
	}
	return names
}
