package printerdrv

import (
	"context"
	"fmt"
	"io"

	"go.bug.st/serial"
)

// Open opens a serial port (or the path of a virtual printer's
// pseudo-terminal) at a baud rate, 8N1.
func Open(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if baud <= 0 {
		baud = 115200
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("printerdrv: open %s at %d baud: %w (is the printer plugged in, and is another program using the port?)", path, baud, err)
	}
	return p, nil
}
