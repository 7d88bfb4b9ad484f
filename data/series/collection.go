package series

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/recur-ml/recur/data/input"
)

// collectionExts are the file names a folder of series is read from;
// anything else in the folder (a README, a SOURCE.md) is not a series.
var collectionExts = []string{".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz"}

// ReadCollection reads many series, for a model trained across them (a
// global forecaster): either a folder whose delimited files (.csv, .tsv,
// .txt, each possibly gzipped) hold one series each, named after the file
// without its extension and read in name order, or one long-format file
// with a series-id column (opt.ID), each id's rows one series named by
// the id, in the order of each id's first row. Every series is read with
// opt; errors name the file, line and column.
func ReadCollection(path string, opt CSVOptions) ([]*Frame, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	if !st.IsDir() {
		if opt.ID == "" {
			return nil, fmt.Errorf("series: %s is one file: a collection in one file needs its series-id column (CSVOptions.ID)", filepath.Base(path))
		}
		return readPath(path, opt, ReadLong)
	}
	if opt.ID != "" {
		return nil, fmt.Errorf("series: %s is a folder of series, one per file; a series-id column (%s) belongs to one long-format file", filepath.Base(path), input.Quote(opt.ID))
	}
	return readFolder(path, opt)
}

// readFolder reads each series file of dir.
func readFolder(dir string, opt CSVOptions) ([]*Frame, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	var frames []*Frame
	from := map[string]string{} // series name -> file
	for _, e := range entries {
		stem, ok := seriesFile(e.Name())
		if !ok {
			continue
		}
		// A link to a file is a series too; a folder named x.csv is not.
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if prev, dup := from[stem]; dup {
			return nil, fmt.Errorf("series: %s and %s in %s would both be series %s", prev, e.Name(), filepath.Base(dir), input.Quote(stem))
		}
		from[stem] = e.Name()
		f, err := ReadFile(filepath.Join(dir, e.Name()), opt)
		if err != nil {
			return nil, err
		}
		f.Name = stem
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("series: %s has no series files (%s)", filepath.Base(dir), strings.Join(collectionExts, ", "))
	}
	return frames, nil
}

// seriesFile returns the series name of a file of a collection folder,
// and whether it is one.
func seriesFile(name string) (string, bool) {
	if strings.HasPrefix(name, ".") {
		return "", false
	}
	lower := strings.ToLower(name)
	for _, ext := range collectionExts {
		if strings.HasSuffix(lower, ext) && len(name) > len(ext) {
			return name[:len(name)-len(ext)], true
		}
	}
	return "", false
}

// ReadLong reads a long-format file from r: a header row, a series-id
// column (opt.ID, required), a time column if there is one and the value
// columns; each id's rows, which need not be adjacent, are one series in
// file order. name is used in errors and in each series' Lines.
func ReadLong(r io.Reader, name string, opt CSVOptions) ([]*Frame, error) {
	if opt.ID == "" {
		return nil, fmt.Errorf("series: %s: a long-format file needs its series-id column (CSVOptions.ID)", name)
	}
	rd := NewReader(r, name, opt)
	byID := map[string]*Frame{}
	var frames []*Frame
	for rd.Next() {
		row := rd.Row()
		f := byID[row.ID]
		if f == nil {
			f = rd.newFrame(row.ID)
			byID[row.ID] = f
			frames = append(frames, f)
		}
		f.appendRow(row)
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	return frames, nil
}
