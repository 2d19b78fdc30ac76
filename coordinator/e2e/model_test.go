package e2e_test

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestOrderModel checks the checker: hand-made histories that must and
// must not be linearizable.
func TestOrderModel(t *testing.T) {
	op := func(kind opKind, tag string, call int64, out string, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: opInput{kind, tag}, Call: call, Output: out, Return: ret}
	}
	tests := []struct {
		name string
		ops  []porcupine.Operation
		want bool
	}{
		{"submit then read", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 10), op(opRead, "a", 11, stOpen, 12)}, true},
		{"acked order lost", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 10), op(opRead, "a", 11, stAbsent, 12)}, false},
		{"read before submit returns may miss it", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 10), op(opRead, "a", 5, stAbsent, 6)}, true},
		{"unanswered submit may show up", []porcupine.Operation{op(opSubmit, "a", 0, outUnknown, never), op(opRead, "a", 5, stOpen, 6)}, true},
		{"unanswered submit may never happen", []porcupine.Operation{op(opSubmit, "a", 0, outUnknown, never), op(opRead, "a", 5, stAbsent, 6)}, true},
		{"unanswered submit cannot vanish once seen", []porcupine.Operation{op(opSubmit, "a", 0, outUnknown, never), op(opRead, "a", 5, stOpen, 6), op(opRead, "a", 7, stAbsent, 8)}, false},
		{"cancel then stale read", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 1), op(opCancel, "a", 2, stCancelled, 3), op(opRead, "a", 4, stOpen, 5)}, false},
		{"unanswered cancel", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 1), op(opCancel, "a", 2, outUnknown, never), op(opRead, "a", 4, stOpen, 5), op(opRead, "a", 6, stCancelled, 7)}, true},
		{"cancel undone", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 1), op(opCancel, "a", 2, outUnknown, never), op(opRead, "a", 4, stCancelled, 5), op(opRead, "a", 6, stOpen, 7)}, false},
		{"duplicate", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 1), op(opRead, "a", 4, stDuplicate, 5)}, false},
		{"orders are independent", []porcupine.Operation{op(opSubmit, "a", 0, stOpen, 1), op(opSubmit, "b", 0, stOpen, 1), op(opRead, "b", 2, stOpen, 3), op(opRead, "a", 2, stOpen, 3)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(orderModel, tc.ops); got != tc.want {
				t.Fatalf("linearizable = %v, want %v", got, tc.want)
			}
		})
	}
}
