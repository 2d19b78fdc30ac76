package vprinter

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFirmwareTranscripts replays golden exchanges with the emulator's
// firmware core (testdata/firmware/*.txt): "> line" is sent to it, "< line"
// is the next line it must answer, "skip-boot" drops the boot banner,
// "firmware NAME" (first) makes it a firmware of that flavour.
// Checksums in the files are written as Marlin computes them; a "*0" or a
// wrong one is meant to be wrong.
func TestFirmwareTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/firmware/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			now := time.Unix(0, 0)
			fw := testFirmware()
			fw.boot(now)
			var got []string
			collect := func() {
				for _, o := range fw.out {
					got = append(got, strings.Split(strings.TrimSuffix(string(o.data), "\n"), "\n")...)
				}
				fw.out = nil
			}
			collect()
			sc := bufio.NewScanner(f)
			ln := 0
			for sc.Scan() {
				ln++
				line := sc.Text()
				where := fmt.Sprintf("%s:%d: %s", filepath.Base(path), ln, line)
				switch {
				case line == "" || strings.HasPrefix(line, "#"):
				case line == "skip-boot":
					got = nil
				case strings.HasPrefix(line, "firmware "):
					fw = testFirmwareOf(line[len("firmware "):])
					fw.boot(now)
					got = nil
					collect()
				case strings.HasPrefix(line, "> "):
					fw.feed([]byte(line[2:]+"\n"), now)
					fw.step(now)
					collect()
				case strings.HasPrefix(line, "< "):
					if len(got) == 0 {
						t.Fatalf("%s: the firmware said nothing", where)
					}
					if got[0] != line[2:] {
						t.Fatalf("%s: the firmware said %q", where, got[0])
					}
					got = got[1:]
				default:
					t.Fatalf("%s: unknown line", where)
				}
			}
			if len(got) > 0 {
				t.Fatalf("unexpected firmware output %q", got)
			}
		})
	}
}
