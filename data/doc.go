// Package data is the root of recur's data preparation: the code that turns
// the files users have into the tensors a recurrent model trains on, and
// keeps every fitted parameter so that prediction applies exactly the same
// transform.
//
// It has no code of its own; the work is in its sub-packages:
//
//   - data/series: time series. A CSV/TSV reader that detects the
//     delimiter, the header and the time column (dates in the common
//     layouts, R's decimal years, or plain numbers) and streams files
//     larger than memory; cleaning of missing values (drop, forward fill,
//     linear interpolation, mean), outliers (z-score or IQR clipping) and
//     duplicated or unsorted timestamps, each with a report; scalers
//     (min-max, z-score, robust) fitted on the training split only,
//     log and differencing transforms with exact inverses, calendar
//     features; windows (lookback, horizon, stride, several targets),
//     chronological splits and walk-forward folds; baselines
//     (persistence, seasonal naive, mean) and metrics (RMSE, MAE, MAPE,
//     sMAPE, MASE) in original units.
//   - data/dataset: small real datasets embedded in the binary
//     (AirPassengers, yearly sunspots) so that `recur train` works with no
//     file at all, and readers for MNIST IDX files (row-by-row sequences)
//     and JSB chorales piano rolls.
//   - data/text: tokenizers, vocabularies, text cleaning, embeddings and
//     labelled text.
//   - data/batch: padding, masks, bucketing, shuffling and a prefetching
//     loader.
//   - data/input: the bounds every reader reads within: a maximum line
//     length (1 MiB by default) and file size (2 GiB), UTF-16 and binary
//     input named, and user values quoted in errors at most 100 bytes
//     long.
//
// Every reader returns errors that name the file, line and column of the
// problem; none panics on bad input, and each parser is fuzzed.
package data
