package fsm

import (
	"encoding/binary"
	"fmt"
)

// Batch entries: the coordinator's batcher packs order submissions that
// wait at the same time into one log entry (coordinator/batch.go); this
// file is their framing and how the machine applies them.

// BatchVersion is the version of the batch framing. Apply refuses a batch
// of another version, changing nothing.
const BatchVersion = 1

// batchMagic starts a batch entry: batchMagic, uvarint BatchVersion,
// uvarint count, then each command as uvarint length + its encoding
// (EncodeCommand). JSON commands start with '{', framed ones with
// framedMagic.
const batchMagic = 0x02

// A batch holds at most MaxBatch commands when proposed; decoding
// accepts up to maxBatchDecode so a later, larger limit still applies.
const (
	MaxBatch       = 64
	maxBatchDecode = 4096
)

// BatchResult is what applying a batch entry returns: one result per
// command, in the batch's order. A batch refused as a whole (it does not
// decode) returns an ApplyResult with the error instead, and changes
// nothing.
type BatchResult struct {
	Results []ApplyResult
}

// EncodeBatch frames encoded commands (EncodeCommand) as one log entry.
func EncodeBatch(cmds [][]byte) []byte {
	size := 1 + 2*binary.MaxVarintLen64
	for _, c := range cmds {
		size += binary.MaxVarintLen32 + len(c)
	}
	b := make([]byte, 0, size)
	b = append(b, batchMagic)
	b = binary.AppendUvarint(b, BatchVersion)
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, c := range cmds {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

// decodeBatch parses a batch entry and every command in it. Any fault —
// framing, version, a command that does not decode or is not an order
// submission — refuses the whole batch with ErrBadCommand.
func decodeBatch(data []byte) ([]*Command, error) {
	if len(data) == 0 || data[0] != batchMagic {
		return nil, fmt.Errorf("%w: not a batch", ErrBadCommand)
	}
	b := data[1:]
	v, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: batch version", ErrBadCommand)
	}
	if v != BatchVersion {
		return nil, fmt.Errorf("%w: batch version %d", ErrBadCommand, v)
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > maxBatchDecode {
		return nil, fmt.Errorf("%w: batch count", ErrBadCommand)
	}
	b = b[k:]
	cmds := make([]*Command, 0, n)
	for i := range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: batch command %d: length", ErrBadCommand, i)
		}
		c, err := DecodeCommand(b[k : k+int(l)])
		if err != nil {
			return nil, fmt.Errorf("batch command %d: %w", i, err)
		}
		if c.Type != CmdSubmitOrder {
			return nil, fmt.Errorf("%w: batch command %d: %q cannot be batched", ErrBadCommand, i, c.Type)
		}
		cmds = append(cmds, c)
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: trailing data after batch", ErrBadCommand)
	}
	return cmds, nil
}

// applyBatch applies a batch entry: all its commands under one lock, one
// index, one wake-up of the Changed waiters. Each command validates
// before it mutates, so each fails or succeeds alone; a batch that does
// not decode changes nothing.
func (m *Machine) applyBatch(index uint64, data []byte) any {
	cmds, err := decodeBatch(data)
	var out BatchResult
	m.mu.Lock()
	if err == nil {
		out.Results = make([]ApplyResult, len(cmds))
		for i, c := range cmds {
			out.Results[i] = m.state.apply(c)
		}
	}
	m.advanceLocked(index)
	m.mu.Unlock()
	if err != nil {
		m.log.Warn("bad log entry", "index", index, "err", err)
		return ApplyResult{Err: err}
	}
	if m.applied != nil {
		for i, c := range cmds {
			m.applied(c.Type, out.Results[i])
		}
	}
	return out
}

// IsBatch reports whether a log entry is a batch entry.
func IsBatch(data []byte) bool { return len(data) > 0 && data[0] == batchMagic }
