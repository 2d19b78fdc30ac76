package printerdrv

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnDropsOverlongLines: noise without line ends does not grow the
// reader without bound, and the lines after it still count.
func TestConnDropsOverlongLines(t *testing.T) {
	hostEnd, fwEnd := net.Pipe()
	ctx := context.Background()
	go func() {
		buf := make([]byte, 256)
		fwEnd.Write([]byte(strings.Repeat("x", 3*maxLine) + "\nstart\n"))
		for {
			n, err := fwEnd.Read(buf)
			if err != nil {
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				if strings.Contains(l, "M115") {
					fwEnd.Write([]byte("FIRMWARE_NAME:Test\nok\n"))
				} else if l != "" {
					fwEnd.Write([]byte("ok\n"))
				}
			}
		}
	}()
	c, err := Connect(ctx, hostEnd, Options{StartWait: 2 * time.Second, HandshakeTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Firmware().Name != "FIRMWARE_NAME:Test" {
		t.Fatalf("firmware %q", c.Firmware().Name)
	}
}
