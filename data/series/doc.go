// Package series prepares time series for recurrent models: read, clean,
// transform, window, split, and score forecasts against baselines.
//
// # Reading
//
// [ReadFile] and [ReadCSV] read a delimited file into a [Frame]; [Reader]
// streams it row by row for files larger than memory. The delimiter, the
// header and the time column are detected unless [CSVOptions] names them.
// Missing values (empty, NA, N/A, NaN, null, none, ?) are read as NaN.
// Every problem is an [*Error] naming file:line:column, the column and the
// value:
//
//	sales.csv:17:12: column "value": "abc" is not a number
package series
