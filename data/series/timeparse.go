package series

import (
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

// Date converts a Time value of the given kind to a UTC time. For
// TimeDecimalYear, a fraction within 1e-4 of k/12 is read as the first day
// of month k+1 (R's monthly ts index); any other fraction is the same share
// of the year's length. For TimeNumber it returns the zero time and false.
func Date(kind TimeKind, v float64) (time.Time, bool) {
	switch kind {
	case TimeUnix:
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	case TimeDecimalYear:
		y := math.Floor(v)
		frac := v - y
		start := time.Date(int(y), 1, 1, 0, 0, 0, 0, time.UTC)
		if m := math.Round(frac * 12); math.Abs(frac*12-m) < 12e-4 {
			return start.AddDate(0, int(m), 0), true
		}
		end := time.Date(int(y)+1, 1, 1, 0, 0, 0, 0, time.UTC)
		return start.Add(time.Duration(frac * float64(end.Sub(start)))), true
	}
	return time.Time{}, false
}
