package main

import (
	_ "embed"
	"strings"

	"github.com/recur-ml/recur/data/series"
)

// airPassengersCSV is the Box & Jenkins airline series (monthly totals of
// international airline passengers in thousands, 1949-1960, 144 rows), as
// exported from R's datasets package; the data are public records freely
// redistributed (see testdata/AirPassengers.SOURCE.md).
//
//go:embed testdata/AirPassengers.csv
var airPassengersCSV string

func airPassengers() (*series.Frame, error) {
	return series.ReadCSV(strings.NewReader(airPassengersCSV), "AirPassengers.csv", series.CSVOptions{TimeColumn: "time", Columns: []string{"value"}})
}
