package worker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseHours(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Hours
		wantErr bool
	}{
		{"", Hours{}, false},
		{"08:00-22:00", Hours{480, 1320}, false},
		{"22:30-06:00", Hours{1350, 360}, false},
		{" 00:00-24:00 ", Hours{0, 1440}, false},
		{"08:00", Hours{}, true},
		{"8-22", Hours{}, true},
		{"08:00-08:00", Hours{}, true},
		{"25:00-26:00", Hours{}, true},
		{"08:60-09:00", Hours{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			h, err := ParseHours(tc.in)
			if tc.wantErr != (err != nil) || h != tc.want {
				t.Fatalf("got %+v, %v", h, err)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Fatalf("err %v is not ErrConfig", err)
			}
		})
	}
}

func TestHoursRemaining(t *testing.T) {
	at := func(hh, mm int) time.Time { return time.Date(2026, 1, 1, hh, mm, 0, 0, time.UTC) }
	day := Hours{480, 1320}
	night := Hours{1320, 360}
	for _, tc := range []struct {
		name string
		h    Hours
		t    time.Time
		want time.Duration
	}{
		{"day inside", day, at(21, 0), time.Hour},
		{"day start", day, at(8, 0), 14 * time.Hour},
		{"day end is outside", day, at(22, 0), -1},
		{"day before", day, at(7, 59), -1},
		{"night evening", night, at(23, 0), 7 * time.Hour},
		{"night morning", night, at(5, 0), time.Hour},
		{"night noon", night, at(12, 0), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Remaining(tc.t); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if (Hours{}).Remaining(at(3, 0)) < 1000*time.Hour {
		t.Fatal("always is not long")
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8750", true},
		{"127.0.0.2:0", true},
		{"[::1]:8750", true},
		{"localhost:8750", true},
		{"0.0.0.0:8750", false},
		{":8750", false},
		{"192.168.1.5:8750", false},
		{"example.com:8750", false},
		{"127.0.0.1", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			if err := CheckLoopback(tc.addr); (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestStoreAtomicAndStable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Load()
	if err != nil || !strings.HasPrefix(p.WorkerID, "w-") || len(p.WorkerID) != 18 {
		t.Fatalf("fresh state %+v, %v", p, err)
	}
	again, err := st.Load()
	if err != nil || again.WorkerID != p.WorkerID {
		t.Fatalf("id not stable: %q then %q", p.WorkerID, again.WorkerID)
	}
	p.InFlight = &InFlight{JobID: "j-1", Epoch: 9, Printing: true}
	if err := st.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := st.Load()
	if err != nil || back.InFlight == nil || *back.InFlight != *p.InFlight {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err := os.WriteFile(st.Path(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(); !errors.Is(err, ErrState) {
		t.Fatalf("corrupt file: %v", err)
	}
}
