package series

import (
	"encoding/json"
	"flag"
	"testing"
)

func TestPolicyText(t *testing.T) {
	var cfg CleanConfig
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.TextVar(&cfg.Missing, "missing", MissingError, "")
	fs.TextVar(&cfg.Outliers, "outliers", OutliersKeep, "")
	fs.TextVar(&cfg.Order, "order", OrderError, "")
	if err := fs.Parse([]string{"-missing", "Interpolate", "-outliers", "iqr", "-order", "sort"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Missing != MissingInterpolate || cfg.Outliers != OutliersIQR || cfg.Order != OrderSort {
		t.Errorf("got %+v", cfg)
	}
	b, err := json.Marshal(cfg)
	if err != nil || string(b) != `{"missing":"interpolate","outliers":"iqr","order":"sort"}` {
		t.Errorf("got %s %v", b, err)
	}
	var p MissingPolicy
	if err := p.UnmarshalText([]byte("backfill")); err == nil || err.Error() != `series: unknown missing-value policy "backfill" (want one of error, drop, ffill, interpolate, mean)` {
		t.Errorf("got %v", err)
	}
	if s := MissingPolicy(9).String(); s != "MissingPolicy(9)" {
		t.Errorf("got %s", s)
	}
}
