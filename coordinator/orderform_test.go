package coordinator_test

import (
	"bytes"
	"mime"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// TestOrderFormUsesTheOrderRules: the intake refuses a field with the
// words of the api rule the CLI checks with.
func TestOrderFormUsesTheOrderRules(t *testing.T) {
	model := coordinatortest.CubeSTL(10, 10, 10)
	for _, tc := range []struct {
		field, value string
		rule         error
	}{
		{api.FieldLayerHeight, "0.01", api.CheckLayerHeight(0.01)},
		{api.FieldInfill, "120", api.CheckInfill(120)},
		{api.FieldQuantity, "0", api.CheckQuantity(0)},
		{api.FieldRequestID, "a/b", api.CheckRequestID("a/b")},
	} {
		t.Run(tc.field, func(t *testing.T) {
			fields := []string{api.FieldQuantity, "1", api.FieldMaterial, "PLA"}
			if tc.field == api.FieldQuantity {
				fields = fields[2:]
			}
			ct, body := coordinatortest.OrderBody(model, append(fields, tc.field, tc.value)...)
			_, params, _ := mime.ParseMediaType(ct)
			_, err := coordinator.ParseOrderForm(bytes.NewReader(body), params["boundary"], 1<<20)
			if tc.rule == nil || err == nil || err.Error() != tc.rule.Error() {
				t.Fatalf("got %v, want %v", err, tc.rule)
			}
		})
	}
	ct, body := coordinatortest.OrderBody(model, api.FieldQuantity, "2", api.FieldMaterial, "petg", api.FieldLayerHeight, "0.28")
	_, params, _ := mime.ParseMediaType(ct)
	f, err := coordinator.ParseOrderForm(bytes.NewReader(body), params["boundary"], 1<<20)
	if err != nil || f.Quantity != 2 || f.Material != "PETG" || f.LayerHeight != 0.28 || f.Infill != api.DefaultInfillPercent {
		t.Fatalf("got %+v, %v", f, err)
	}
}
