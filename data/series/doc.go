// Package series prepares time series for recurrent models: read, clean,
// transform, window, split, and score forecasts against baselines. It is
// pure Go and depends only on tensor; values are float64 while data are
// prepared and float32 in the windows a model consumes.
//
// # Reading
//
// [ReadFile] and [ReadCSV] read a delimited file into a [Frame], a table of
// value columns (stored column by column, NaN for missing) with an
// optional time column; [Reader] streams the same file row by row, in the
// style of bufio.Scanner, for files larger than memory. The delimiter
// (',', tab, ';' or '|'), the header and the time column are detected
// unless [CSVOptions] names them. Times may be dates in the common layouts
// (2006-01-02, 2006-01, 2006-01-02 15:04:05, RFC 3339, ...), R's decimal
// years (1949.083333 is February 1949) or plain numbers. Missing values
// (empty, NA, N/A, NaN, null, none, ?) are read as NaN. Every problem is
// an [*Error] naming file:line:column, the column and the value:
//
//	sales.csv:17:12: column "value": "abc" is not a number
//
// Values are quoted up to about 100 bytes. Lines are at most 1 MiB and
// files 2 GiB unless CSVOptions.Limits says otherwise (see package
// data/input); UTF-16 files are named as such, a UTF-8 byte order mark is
// skipped.
//
// # Cleaning
//
// [Clean] returns a cleaned copy and a [Report] of what it found: rows
// with duplicated or unsorted timestamps (an error, or sorted with the
// last duplicate kept), missing values (an error, or dropped, forward
// filled, linearly interpolated or replaced by the mean) and outliers
// clipped at a z-score or Tukey (IQR) bound. Statistics can be restricted
// to the training rows with CleanConfig.FitRows.
//
// # Transforms
//
// A [Scaler] (min-max, z-score or robust median/IQR) is fitted on the
// training rows only — FitScaler(method, frame.Slice(split.Train.From,
// split.Train.To)) — and then transforms any split; its fields are its
// whole state and marshal to JSON for the model file. [Log] and [Diff]
// (lag 1 or seasonal) have exact inverses; [Diff.Integrate] turns
// forecast differences back into levels from the last known values.
// [AddCalendar] appends month, weekday, hour and day-of-year as sin/cos
// pairs computed from the time column.
//
// # Windows and splits
//
// [SplitFraction] and [SplitCount] cut the rows chronologically into
// train, validation and test ranges; nothing is ever shuffled across time.
// [MakeWindows] turns a range into X (N, L, F) and Y (N, H, K) float32
// tensors with lookback L, horizon H, a stride, F input and K target
// columns. The targets of a window lie inside the range; its inputs may
// come from before it, so validation and test windows use the tail of the
// previous split as lookback context, as a forecaster would at that
// origin. With WindowConfig.Index the windows index the frame instead of
// copying it (overlapping copies take Lookback times the series), and
// [Windows.Input] and [Windows.Target] read a window's values; Prepare's
// callers that train on long series (the model package) use that.
// [WalkForward] gives rolling-origin folds (expanding or fixed training
// window).
//
// # Baselines and metrics
//
// [Persistence], [SeasonalNaive] (season given, or found by
// [DetectSeason]) and [MeanForecast] forecast the same windows as the
// model, using only values known at each window's origin; [Score]
// computes RMSE, MAE, MAPE, sMAPE and MASE (scaled by the in-sample naive
// error, [NaiveScale]) in original units. On AirPassengers with the first
// 96 months for training and the last 48 for testing the seasonal naive
// forecast scores RMSE 41.85.
//
// # All at once
//
// [Prepare] does the usual sequence — split, log, differencing, calendar
// features, scaler fitted on the training rows, windows for each split —
// and returns a [Prepared] whose [Pipeline] (JSON) is the fitted state to
// save with the model. [Prepared.Evaluate] inverts a model's outputs to
// original units and scores them next to the baselines on the same
// windows; [Pipeline.LastWindow] and [Pipeline.Invert] do the same at
// prediction time on new data.
package series
