package gossip

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// memberlist's level tags become slog levels, the tag and prefix dropped.
func TestLogWriterLevels(t *testing.T) {
	var buf bytes.Buffer
	w := &logWriter{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, line := range []string{
		"2026/11/28 10:00:00 [ERR] memberlist: Failed to send ping\n",
		"2026/11/28 10:00:00 [WARN] memberlist: Was able to connect\n",
		"2026/11/28 10:00:00 [INFO] memberlist: Marking w-1 as failed\n",
		"2026/11/28 10:00:00 [DEBUG] memberlist: Stream connection\n",
	} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write %q: %d, %v", line, n, err)
		}
	}
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{`level=ERROR msg="memberlist: Failed to send ping"`, `level=WARN msg="memberlist: Was able to connect"`,
		`level=INFO msg="memberlist: Marking w-1 as failed"`, `level=DEBUG msg="2026/11/28 10:00:00 [DEBUG] memberlist: Stream connection"`}
	if len(got) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(got), buf.String())
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("line %d: %s\nwant %s", i, got[i], want[i])
		}
	}
}
