package sim

import (
	"errors"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		speed      float64
		want       Faults
		err        bool
	}{
		{"empty", "", 300, Faults{}, false},
		{"issue example", "leader-crash=every:10m,partition=every:30m,worker-churn=5%", 300,
			Faults{LeaderCrashEvery: 2 * time.Second, PartitionEvery: 6 * time.Second, WorkerChurn: 0.05}, false},
		{"clamped", "leader-crash=every:1m", 600, Faults{LeaderCrashEvery: MinFaultPeriod}, false},
		{"fractions", "printer-faults=0.1,owner-pauses=2%", 1, Faults{PrinterFaults: 0.1, OwnerPauses: 0.02}, false},
		{"unknown", "meteor=every:1h", 1, Faults{}, true},
		{"no every", "partition=30m", 1, Faults{}, true},
		{"negative", "worker-churn=-5%", 1, Faults{}, true},
		{"too many", "worker-churn=150%", 1, Faults{}, true},
		{"no value", "leader-crash", 1, Faults{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFaults(tc.spec, tc.speed)
			if tc.err {
				if !errors.Is(err, ErrFaultSpec) {
					t.Fatalf("err %v, want ErrFaultSpec", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"", "leader-crash=every:10m,partition=every:30m,worker-churn=5%", "x=y", "owner-pauses=1e400%", "partition=every:-1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		fs, err := ParseFaults(spec, 300)
		if err != nil {
			if !errors.Is(err, ErrFaultSpec) {
				t.Fatalf("error %v does not wrap ErrFaultSpec", err)
			}
			return
		}
		if fs.LeaderCrashEvery < 0 || fs.PartitionEvery < 0 || fs.WorkerChurn < 0 || fs.WorkerChurn > 1 ||
			fs.PrinterFaults < 0 || fs.PrinterFaults > 1 || fs.OwnerPauses < 0 || fs.OwnerPauses > 1 {
			t.Fatalf("%q parsed to out-of-range %+v", spec, fs)
		}
		if (fs.LeaderCrashEvery > 0 && fs.LeaderCrashEvery < MinFaultPeriod) || (fs.PartitionEvery > 0 && fs.PartitionEvery < MinFaultPeriod) {
			t.Fatalf("%q: period below the minimum: %+v", spec, fs)
		}
	})
}
