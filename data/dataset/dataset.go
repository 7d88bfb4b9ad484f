package dataset

import (
	"bytes"
	_ "embed"

	"github.com/recur-ml/recur/data/series"
)

//go:embed airpassengers/AirPassengers.csv
var airPassengersCSV []byte

//go:embed sunspots/sunspot.year.csv
var sunspotsYearCSV []byte

// AirPassengers returns the Box & Jenkins airline series: monthly totals of
// international airline passengers in thousands, January 1949 to December
// 1960, 144 rows. The frame has one column, "value", and a decimal-year
// time column (Time[0] = 1949 is January 1949; see series.Date). It is
// public-domain data shipped with R (see airpassengers/SOURCE.md).
//
// The usual evaluation trains on the first 96 months (67%) and tests on the
// last 48; the seasonal naive forecast (season 12) scores RMSE 41.85 there.
func AirPassengers() (*series.Frame, error) {
	return readEmbedded(airPassengersCSV, "AirPassengers.csv")
}

// SunspotsYearly returns the yearly mean sunspot numbers 1700-1988 (289
// rows, column "value", decimal-year time), R's sunspot.year (see
// sunspots/SOURCE.md). The cycle is about 11 years.
func SunspotsYearly() (*series.Frame, error) {
	return readEmbedded(sunspotsYearCSV, "sunspot.year.csv")
}

func readEmbedded(b []byte, name string) (*series.Frame, error) {
	return series.ReadCSV(bytes.NewReader(b), name, series.CSVOptions{Columns: []string{"value"}})
}
