package coordinator

import (
	"testing"

	vmetrics "github.com/VictoriaMetrics/metrics"
)

func TestSeriesEscapesLabelValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs []string
		want  string
	}{
		{"one label", []string{"state", "open"}, `f{state="open"}`},
		{"two labels in order", []string{"outcome", "ok", "type", "submit_order"}, `f{outcome="ok",type="submit_order"}`},
		{"double quote", []string{"type", `a"b`}, `f{type="a\"b"}`},
		{"backslash", []string{"type", `a\b`}, `f{type="a\\b"}`},
		{"backslash before quote", []string{"type", `a\"`}, `f{type="a\\\""}`},
		{"line feed", []string{"type", "a\nb"}, `f{type="a\nb"}`},
		{"tab and unicode kept", []string{"type", "a\tü"}, "f{type=\"a\tü\"}"},
		{"invalid UTF-8 replaced", []string{"type", "a\xffb"}, "f{type=\"a\uFFFDb\"}"},
		{"empty value", []string{"type", ""}, `f{type=""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := series("f", tc.pairs...)
			if got != tc.want {
				t.Fatalf("series = %s, want %s", got, tc.want)
			}
			if err := vmetrics.ValidateMetric(got); err != nil {
				t.Fatalf("%s is not a valid series name: %v", got, err)
			}
		})
	}
}
