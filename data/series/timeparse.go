package series

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Date layouts tried, in order, when the time format is detected.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	"2006-01",
	"2006/01",
	"20060102",
}

// Time format names accepted by CSVOptions.TimeFormat besides Go layouts.
const (
	FormatNumber      = "number"
	FormatDecimalYear = "decimal-year"
	FormatUnix        = "unix"
)

// timeParser turns one time field into a float64 under a fixed format.
type timeParser struct {
	kind   TimeKind
	layout string // Go layout when kind == TimeUnix and not unix seconds
}

// timeHeaders are header names taken as the time column when none is named.
var timeHeaders = map[string]bool{
	"time": true, "date": true, "datetime": true, "timestamp": true, "ds": true,
	"month": true, "year": true, "day": true, "week": true,
}

// detectTime chooses a parser for a column from its header and first value;
// ok is false when the value is neither a date nor a number.
func detectTime(format, header, value string) (timeParser, bool) {
	value = strings.TrimSpace(value)
	switch format {
	case FormatNumber:
		return timeParser{kind: TimeNumber}, true
	case FormatDecimalYear:
		return timeParser{kind: TimeDecimalYear}, true
	case FormatUnix:
		return timeParser{kind: TimeUnix}, true
	case "":
	default:
		return timeParser{kind: TimeUnix, layout: format}, true
	}
	if v, err := strconv.ParseFloat(value, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
		// R writes ts indices as fractional years: 1949, 1949.083333, ...
		if timeHeaders[strings.ToLower(header)] && v >= 1000 && v < 3000 {
			return timeParser{kind: TimeDecimalYear}, true
		}
		return timeParser{kind: TimeNumber}, true
	}
	for _, l := range dateLayouts {
		if _, err := time.Parse(l, value); err == nil {
			return timeParser{kind: TimeUnix, layout: l}, true
		}
	}
	return timeParser{}, false
}

// looksLikeDate reports whether s parses with one of the date layouts.
func looksLikeDate(s string) bool {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return true
		}
	}
	return false
}

func (p timeParser) parse(s string) (float64, string, bool) {
	s = strings.TrimSpace(s)
	if p.layout != "" {
		t, err := time.Parse(p.layout, s)
		if err != nil {
			return 0, "is not a date in layout " + strconv.Quote(p.layout), false
		}
		return float64(t.Unix()) + float64(t.Nanosecond())/1e9, "", true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, "is not a time value (want a number)", false
	}
	return v, "", true
}

// Date converts one Time value of the given kind to a UTC time. For
// TimeDecimalYear, a fraction within 1e-4 of k/12 is read as the first day
// of month k+1 (R's index of monthly, quarterly and yearly series); any
// other fraction is the same share of the year's length. A column of
// another frequency (R's business-day series) can have a few values at
// exact twelfths, so convert whole columns with [Frame.Dates]. For
// TimeNumber and NoTime it returns the zero time and false.
func Date(kind TimeKind, v float64) (time.Time, bool) {
	return date(kind, v, true)
}

func date(kind TimeKind, v float64, monthly bool) (time.Time, bool) {
	switch kind {
	case TimeUnix:
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	case TimeDecimalYear:
		y := math.Floor(v)
		frac := v - y
		start := time.Date(int(y), 1, 1, 0, 0, 0, 0, time.UTC)
		if m, ok := twelfth(frac); ok && monthly {
			return start.AddDate(0, m, 0), true
		}
		end := time.Date(int(y)+1, 1, 1, 0, 0, 0, 0, time.UTC)
		return start.Add(time.Duration(frac * float64(end.Sub(start)))), true
	}
	return time.Time{}, false
}

// twelfth reports whether frac is within 1e-4 of k/12, and k.
func twelfth(frac float64) (int, bool) {
	m := math.Round(frac * 12)
	return int(m), math.Abs(frac*12-m) < 12e-4
}

// Dates returns the time column as UTC times, deciding for the whole
// column how to read decimal years: when every fraction is a multiple of
// 1/12 (monthly, quarterly, yearly data), each value is the first day of
// its month; otherwise each fraction is the same share of its year, so
// that dates keep the order of the values. It fails for a frame whose
// time column is not a date or decimal year.
func (f *Frame) Dates() ([]time.Time, error) {
	if f.TimeKind != TimeUnix && f.TimeKind != TimeDecimalYear {
		return nil, fmt.Errorf("series: %sthe time column is %v, not a date", f.prefix(), f.TimeKind)
	}
	monthly := true
	if f.TimeKind == TimeDecimalYear {
		for _, v := range f.Time {
			if _, ok := twelfth(v - math.Floor(v)); !ok {
				monthly = false
				break
			}
		}
	}
	out := make([]time.Time, len(f.Time))
	for i, v := range f.Time {
		out[i], _ = date(f.TimeKind, v, monthly)
	}
	return out, nil
}
