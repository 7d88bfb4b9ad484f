package series

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadFileAirPassengers(t *testing.T) {
	f, err := ReadFile("testdata/AirPassengers.csv", CSVOptions{Columns: []string{"value"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 144 || f.TimeKind != TimeDecimalYear || f.TimeName != "time" {
		t.Fatalf("got len %d kind %v time %q, want 144 decimal-year time", f.Len(), f.TimeKind, f.TimeName)
	}
	if f.Values[0][0] != 112 || f.Values[0][143] != 432 {
		t.Errorf("got first/last %v/%v, want 112/432", f.Values[0][0], f.Values[0][143])
	}
	d, _ := Date(f.TimeKind, f.Time[1])
	if want := time.Date(1949, 2, 1, 0, 0, 0, 0, time.UTC); !d.Equal(want) {
		t.Errorf("Date(row 1) = %v, want %v", d, want)
	}
	d, _ = Date(f.TimeKind, f.Time[143])
	if want := time.Date(1960, 12, 1, 0, 0, 0, 0, time.UTC); !d.Equal(want) {
		t.Errorf("Date(row 143) = %v, want %v", d, want)
	}
	if f.Lines[0] != 2 || f.Lines[143] != 145 {
		t.Errorf("got lines %d..%d, want 2..145", f.Lines[0], f.Lines[143])
	}
}

func TestReadCSVFormats(t *testing.T) {
	tests := []struct {
		file    string
		opt     CSVOptions
		cols    []string
		kind    TimeKind
		time0   string // RFC 3339 of the first time, or "" for numbers
		values0 []float64
		n       int
	}{
		{"hourly.tsv", CSVOptions{}, []string{"sales", "temp"}, TimeUnix, "2021-03-01T10:00:00Z", []float64{5, 1.5}, 4},
		{"noheader.csv", CSVOptions{}, []string{"col0", "col1"}, NoTime, "", []float64{1, 10}, 5},
		{"noheader.csv", CSVOptions{TimeColumn: "0"}, []string{"col1"}, TimeNumber, "", []float64{10}, 5},
		{"semicolon.csv", CSVOptions{}, []string{"value"}, TimeUnix, "1949-01-01T00:00:00Z", []float64{112}, 3},
		{"AirPassengers.csv", CSVOptions{}, []string{"value"}, TimeDecimalYear, "1949-01-01T00:00:00Z", []float64{112}, 144},
		{"AirPassengers.csv", CSVOptions{Columns: []string{"3", "period"}}, []string{"value", "period"}, TimeDecimalYear, "1949-01-01T00:00:00Z", []float64{112, 1}, 144},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := ReadFile(filepath.Join("testdata", tt.file), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(f.Columns, ",") != strings.Join(tt.cols, ",") || f.TimeKind != tt.kind || f.Len() != tt.n {
				t.Fatalf("got columns %q kind %v len %d, want %q %v %d", f.Columns, f.TimeKind, f.Len(), tt.cols, tt.kind, tt.n)
			}
			if tt.time0 != "" {
				d, _ := Date(f.TimeKind, f.Time[0])
				if got := d.Format(time.RFC3339); got != tt.time0 {
					t.Errorf("got time0 %s, want %s", got, tt.time0)
				}
			}
			for c, want := range tt.values0 {
				if got := f.Values[c][0]; got != want {
					t.Errorf("column %d row 0: got %v, want %v", c, got, want)
				}
			}
		})
	}
	f, err := ReadFile("testdata/hourly.tsv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(f.Values[0][1]) || !math.IsNaN(f.Values[1][2]) {
		t.Errorf("got %v %v, want NA and null read as NaN", f.Values[0][1], f.Values[1][2])
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		file string
		opt  CSVOptions
		want string
	}{
		{"ragged.csv", CSVOptions{}, "ragged.csv:3: has 3 fields, want 2 like the first line (ragged row)"},
		{"nonnumeric.csv", CSVOptions{}, `nonnumeric.csv:4:12: column "value": "abc" is not a number`},
		{"badutf8.csv", CSVOptions{}, `badutf8.csv:3:12: column "value": invalid UTF-8`},
		{"empty.csv", CSVOptions{}, "empty.csv: empty file"},
		{"headeronly.csv", CSVOptions{}, "headeronly.csv:1: header and no data rows"},
		{"hourly.tsv", CSVOptions{Columns: []string{"price"}}, `hourly.tsv:1: no column "price" (columns: ["date" "sales" "temp"])`},
		{"hourly.tsv", CSVOptions{TimeFormat: "2006-01-02"}, `hourly.tsv:2:1: column "date": "2021-03-01 10:00:00" is not a date in layout "2006-01-02"`},
		{"semicolon.csv", CSVOptions{Delimiter: ','}, `semicolon.csv:2:1: column "month;value": "1949-01;112" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := ReadFile(filepath.Join("testdata", tt.file), tt.opt)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got error %v, want %s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("got %T, want *Error", err)
			}
		})
	}
	_, err := ReadFile("testdata/empty.csv", CSVOptions{})
	if !errors.Is(err, ErrEmpty) {
		t.Errorf("empty file: got %v, want ErrEmpty", err)
	}
}

// TestReaderStreams checks that the Reader works row by row with a sticky
// error.
func TestReaderStreams(t *testing.T) {
	fh, err := os.Open("testdata/nonnumeric.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := NewReader(fh, "nonnumeric.csv", CSVOptions{})
	var got []float64
	for r.Next() {
		got = append(got, r.Row().Values[0])
	}
	if len(got) != 2 || got[1] != 2 || r.Err() == nil {
		t.Fatalf("got rows %v err %v, want [1 2] and an error", got, r.Err())
	}
	if r.Next() {
		t.Error("Next after an error returned true")
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"hourly.tsv", "noheader.csv", "semicolon.csv", "ragged.csv", "nonnumeric.csv", "duplicate.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("time,value\n1949,1\n\"1949.5\",\"2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ReadCSV(strings.NewReader(string(b)), "fuzz.csv", CSVOptions{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if e.File != "fuzz.csv" || !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			if !errors.Is(err, ErrEmpty) && e.Line == 0 {
				t.Fatalf("error %q has no line", err)
			}
			return
		}
		if fr.Len() == 0 {
			t.Fatal("no error and no rows")
		}
		for _, v := range fr.Values {
			if len(v) != fr.Len() {
				t.Fatalf("column of %d values in a frame of %d rows", len(v), fr.Len())
			}
		}
	})
}
