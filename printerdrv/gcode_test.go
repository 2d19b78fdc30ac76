package printerdrv

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

func TestPrepare(t *testing.T) {
	ender, err := profile.LookupPrinter("ender3")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     string
		cmds    []string
		layers  []int
		overErr bool
	}{
		{name: "layer comments", src: "M104 S200\n;LAYER:0\nG1 Z0.2\nG1 X1 ;a\n\n;LAYER:1\nG1 Z0.4\n",
			cmds: []string{"M104 S200", "G1 Z0.2", "G1 X1", "G1 Z0.4"}, layers: []int{0, 0, 0, 1}},
		{name: "layers from Z", src: "G28\nG1 Z0.2 F600\nG1 X1\nG1 Z0.4\nG1 Z0.6\n",
			cmds: []string{"G28", "G1 Z0.2 F600", "G1 X1", "G1 Z0.4", "G1 Z0.6"}, layers: []int{0, 0, 0, 1, 2}},
		{name: "hotend over limit", src: "G28\nM104 S300\n", overErr: true},
		{name: "bed over limit", src: "M190 S120\n", overErr: true},
		{name: "M109 R over limit", src: "M109 R261\n", overErr: true},
		// Marlin reads both as 300 °C; before the host read them through
		// package gcode it let them pass unchecked.
		{name: "no space after the code", src: "M104S300\n", overErr: true},
		{name: "no space between words", src: "M104 S300T0\n", overErr: true},
		{name: "at the limit", src: "M109 S260\nM190 S110\n", cmds: []string{"M109 S260", "M190 S110"}, layers: []int{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ReadJob(tc.name, strings.NewReader(tc.src), ender)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Prepare(j)
			if tc.overErr {
				if !errors.Is(err, ErrOverLimit) {
					t.Fatalf("err %v, want ErrOverLimit", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Commands, tc.cmds) || !reflect.DeepEqual(p.Layer, tc.layers) {
				t.Fatalf("got %q %v", p.Commands, p.Layer)
			}
		})
	}
}
