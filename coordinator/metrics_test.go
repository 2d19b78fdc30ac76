package coordinator

import (
	"errors"
	"strings"
	"testing"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
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

func TestObserveApplyAllocatesNothingOnceSeen(t *testing.T) {
	m := &metrics{set: vmetrics.NewSet()}
	ok, refused := fsm.ApplyResult{}, fsm.ApplyResult{Err: errors.New("no")}
	m.observeApply("submit_order", ok)
	m.observeApply("submit_order", refused)
	if n := testing.AllocsPerRun(100, func() {
		m.observeApply("submit_order", ok)
		m.observeApply("submit_order", refused)
	}); n != 0 {
		t.Fatalf("%v allocations per pair of applies", n)
	}
	var b strings.Builder
	m.set.WritePrometheus(&b)
	// One apply of each before, one in AllocsPerRun's warm-up, 100 measured.
	if want := `fabgrid_coordinator_commands_applied_total{outcome="refused",type="submit_order"} 102`; !strings.Contains(b.String(), want) {
		t.Fatalf("metrics lack %q:\n%s", want, b.String())
	}
}
