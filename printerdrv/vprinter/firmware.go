package vprinter

import (
	"bytes"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/motion"
)

// firmware is the emulated firmware: RX buffer, line checks, command
// queue, planner, heaters, faults, answering as Marlin or as one of the
// other flavours (flavour.go). It is driven by one goroutine with the wall
// time and collects output; it does no I/O itself.
type firmware struct {
	cfg     VirtualConfig
	rng     *rand.Rand
	mach    *motion.Machine
	rec     *recorder
	instant bool
	flavour flavour

	shutdown string    // Klipper shut down (or is starting), for this reason
	readyAt  time.Time // Klipper restarting: ready at this time

	rx    []byte
	ep    []byte // the emergency parser's view of the current line
	cmdq  []fwCmd
	lastN int

	halted     bool
	disconnect bool // the loop must close the link

	start    time.Time // wall anchor of modelled time (paced mode)
	simClock float64   // modelled time (instant mode)
	planner  []time.Time
	blocked  *blocking
	hot, bed heater

	report     time.Duration // auto-report interval (wall)
	nextReport time.Time

	fired map[string]bool
	out   []outItem
}

type fwCmd struct {
	n   int // line number, -1 if none
	cmd string
}

type blocking struct {
	cmd      fwCmd
	until    time.Time
	sync     bool // waits for the planner to empty first
	dur      float64
	heat     bool
	nextBusy time.Time
}

type outItem struct {
	due  time.Time
	data []byte
}

func newFirmware(cfg VirtualConfig, rec *recorder, now time.Time) *firmware {
	f := &firmware{
		cfg:     cfg,
		rng:     rand.New(rand.NewSource(cfg.Seed)),
		mach:    motion.NewMachine(motion.LimitsFor(cfg.Printer)),
		rec:     rec,
		instant: cfg.Speed <= 0,
		start:   now,
		hot:     newHeater(cfg.Ambient, cfg.Printer.MaxHotendC+40, 60),
		bed:     newHeater(cfg.Ambient, cfg.Printer.MaxBedC+20, 180),
		fired:   map[string]bool{},
	}
	var known bool
	if f.flavour, known = parseFlavour(cfg.Firmware); !known {
		cfg.Logger.Warn("virtual printer: unknown firmware flavour, emulating Marlin", "firmware", cfg.Firmware)
	}
	return f
}

func (f *firmware) sim(wall time.Time) float64 {
	if f.instant {
		return f.simClock
	}
	return wall.Sub(f.start).Seconds() * f.cfg.Speed
}

// wallFor converts modelled seconds into wall time.
func (f *firmware) wallFor(sec float64) time.Duration {
	if f.instant {
		return 0
	}
	return time.Duration(sec / f.cfg.Speed * float64(time.Second))
}

func (f *firmware) emit(wall time.Time, s string) {
	f.out = append(f.out, outItem{due: wall.Add(f.cfg.AckLatency), data: []byte(s)})
}

func (f *firmware) ok(wall time.Time, c fwCmd) {
	if c.n > 0 && f.cfg.Faults.DropOK > 0 && f.rng.Float64() < f.cfg.Faults.DropOK {
		f.rec.count(func(r *Record) { r.DroppedOKs++ })
		return
	}
	f.emit(wall, "ok\n")
}

func (f *firmware) boot(wall time.Time) {
	if b := f.banner(); b != "" {
		f.emit(wall, b)
	}
}

// feed takes bytes from the link into the RX buffer. Bytes that do not fit
// are lost, as on a real UART, and counted as an overflow.
func (f *firmware) feed(b []byte, wall time.Time) {
	if f.halted {
		return
	}
	if f.flavour == flavourMarlin && !f.cfg.NoEmergencyParser || f.flavour == flavourKlipper {
		for _, c := range b {
			if c == '\n' || c == '\r' {
				cmd := strings.ToUpper(gcode.Strip(string(f.ep)))
				if f.flavour == flavourKlipper && len(cmd) > 1 && cmd[0] == 'N' { // its m112_r skips a line number
					if i := strings.IndexByte(cmd, ' '); i > 0 {
						cmd = strings.TrimSpace(cmd[i:])
					}
					if i := strings.LastIndexByte(cmd, '*'); i > 0 {
						cmd = strings.TrimSpace(cmd[:i])
					}
				}
				if !f.emergencyParser(cmd) {
					cmd = ""
				}
				switch cmd {
				case "M112":
					f.halt(wall, false)
					if f.halted {
						return
					}
				case "M108": // break out of a heating wait
					if f.blocked != nil && f.blocked.heat {
						f.blocked.until = wall
					}
				case "M410": // quickstop: abandon the planned moves
					n := 0
					for _, t := range f.planner {
						if t.After(wall) {
							n++
						}
					}
					f.planner = f.planner[:0]
					f.rec.count(func(r *Record) { r.QuickStops++; r.AbandonedMoves += n })
				}
				f.ep = f.ep[:0]
			} else if len(f.ep) < 96 {
				f.ep = append(f.ep, c)
			}
		}
	}
	room := f.cfg.Printer.RXBufferBytes - len(f.rx)
	if len(b) > room {
		lost := len(b) - max(room, 0)
		f.rec.count(func(r *Record) { r.OverflowBytes += lost })
		b = b[:max(room, 0)]
	}
	f.rx = append(f.rx, b...)
}

func (f *firmware) kill(wall time.Time, msg string) {
	if msg != "" {
		f.emit(wall, "Error:"+msg+"\n")
	}
	f.halted = true
	f.rx, f.cmdq, f.planner, f.blocked = nil, nil, nil, nil
	f.hot.set(f.sim(wall), 0)
	f.bed.set(f.sim(wall), 0)
	f.rec.count(func(r *Record) { r.Halted = true })
}

// step runs everything that can run at wall time now.
func (f *firmware) step(wall time.Time) {
	if f.halted {
		return
	}
	if !f.readyAt.IsZero() && !wall.Before(f.readyAt) {
		f.readyAt, f.shutdown = time.Time{}, ""
		f.boot(wall)
	}
	for len(f.planner) > 0 && !f.planner[0].After(wall) {
		f.planner = f.planner[1:]
	}
	if b := f.blocked; b != nil {
		if b.sync && len(f.planner) == 0 && b.until.IsZero() {
			b.until = wall.Add(f.wallFor(b.dur))
		}
		if !b.until.IsZero() && !wall.Before(b.until) {
			f.blocked = nil
			f.ok(wall, b.cmd)
		} else if !b.nextBusy.IsZero() && !wall.Before(b.nextBusy) {
			report, every := f.busyReport(wall, b.heat)
			if report != "" {
				f.emit(wall, report)
			}
			b.nextBusy = time.Time{}
			if every > 0 {
				b.nextBusy = wall.Add(every)
			}
		}
	}
	for !f.halted && !f.disconnect {
		progressed := false
		for f.blocked == nil && len(f.cmdq) > 0 && !f.halted {
			if !f.exec(f.cmdq[0], wall) {
				break
			}
			if f.halted || f.shutdown != "" { // M112 emptied the queue
				break
			}
			f.cmdq = f.cmdq[1:]
			progressed = true
		}
		for len(f.cmdq) < f.cfg.CommandQueue && !f.halted && !f.disconnect {
			i := bytes.IndexAny(f.rx, "\n\r")
			if i < 0 {
				break
			}
			line := string(f.rx[:i])
			f.rx = f.rx[i+1:]
			if strings.TrimSpace(line) == "" {
				continue
			}
			f.accept(line, wall)
			progressed = true
		}
		if !progressed {
			break
		}
	}
	if f.report > 0 && !wall.Before(f.nextReport) && !f.halted {
		if f.flavour == flavourPrusa {
			f.emit(wall, f.temps(wall)+"\n")
		} else {
			f.emit(wall, f.tempLine(wall, " ")+"\n")
		}
		f.nextReport = wall.Add(f.report)
	}
}

// next returns the wall time at which step must run again (zero: only on input).
func (f *firmware) next() time.Time {
	var t time.Time
	consider := func(x time.Time) {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	if f.halted {
		return t
	}
	consider(f.readyAt)
	if len(f.planner) > 0 {
		consider(f.planner[0])
	}
	if b := f.blocked; b != nil {
		consider(b.until)
		consider(b.nextBusy)
	}
	if f.report > 0 {
		consider(f.nextReport)
	}
	return t
}

// accept checks one received line as Marlin's queue does: line number
// first, then checksum; errors ask for the expected line again. Klipper
// checks nothing; RepRapFirmware only the checksum (flavour.go).
func (f *firmware) accept(line string, wall time.Time) {
	f.rec.count(func(r *Record) { r.LinesReceived++ })
	var (
		n           int
		cmd, errMsg string
	)
	switch f.flavour {
	case flavourKlipper:
		n, cmd = f.acceptKlipper(line)
	case flavourRepRap:
		var resend int
		if n, cmd, resend = f.checkRepRap(line); resend >= 0 {
			f.rec.count(func(r *Record) { r.Rejected++ })
			f.emit(wall, fmt.Sprintf("rs %d\nok\n", resend))
			return
		}
	default:
		n, cmd, errMsg = f.check(line)
	}
	if errMsg != "" {
		f.rec.count(func(r *Record) { r.Rejected++ })
		f.emit(wall, fmt.Sprintf("Error:%s, Last Line: %d\nResend: %d\nok\n", errMsg, f.lastN, f.lastN+1))
		if f.cfg.FlushOnError || f.flavour == flavourPrusa {
			f.rx = f.rx[:0]
		}
		return
	}
	if cmd == "" {
		return
	}
	if f.shutdown != "" {
		f.shutdownAnswer(wall, fwCmd{n: n, cmd: cmd})
		return
	}
	if n > 0 {
		ft := f.cfg.Faults
		switch {
		case n == ft.ResetAt && !f.fired["reset"]:
			f.fired["reset"] = true
			f.reboot(wall)
			return
		case n == ft.DisconnectAt && !f.fired["disconnect"]:
			f.fired["disconnect"] = true
			f.disconnect = true
			return
		case n == ft.ThermalRunawayAt && !f.fired["runaway"]:
			f.fired["runaway"] = true
			f.halt(wall, true)
			return
		}
	}
	f.cmdq = append(f.cmdq, fwCmd{n: n, cmd: cmd})
}

// check validates a line; it returns the line number (-1 if none), the bare
// command, or an error message.
func (f *firmware) check(line string) (n int, cmd, errMsg string) {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	n = -1
	if len(line) == 0 || (line[0] != 'N' && line[0] != 'n') {
		if strings.IndexByte(line, '*') >= 0 {
			return n, "", "No Line Number with checksum"
		}
		return n, line, ""
	}
	if f.cfg.Faults.Corrupt > 0 && len(line) > 2 && f.rng.Float64() < f.cfg.Faults.Corrupt && !strings.Contains(line, "M110") {
		f.rec.count(func(r *Record) { r.Corrupted++ })
		b := []byte(line)
		i := f.rng.Intn(len(b))
		b[i] ^= byte(1 + f.rng.Intn(0x3f))
		if b[i] == '\n' || b[i] == '\r' || b[i] == 0 {
			b[i] = '#'
		}
		line = string(b)
	}
	j := 1
	for j < len(line) && (line[j] >= '0' && line[j] <= '9' || j == 1 && line[j] == '-') {
		j++
	}
	num, err := strconv.Atoi(line[1:j])
	if err != nil {
		return n, "", "Line Number is not Last Line Number+1"
	}
	star := strings.LastIndexByte(line, '*')
	body := line
	if star >= 0 {
		body = line[:star]
	}
	cmd = strings.TrimSpace(body[j:])
	isM110 := false
	if c := gcode.Lex(cmd); c.Code == gcode.M(110) {
		isM110 = true
		if w, err := gcode.ParseWords(c.Args); err == nil {
			if v, ok := w.Get('N'); ok {
				num = int(v)
			}
		}
	}
	if num != f.lastN+1 && !isM110 {
		return n, "", "Line Number is not Last Line Number+1"
	}
	if star < 0 {
		return n, "", "No Checksum with line number"
	}
	want, err := strconv.Atoi(strings.TrimSpace(line[star+1:]))
	if err != nil || want != int(gcode.Checksum(body)) {
		return n, "", "checksum mismatch"
	}
	f.lastN = num
	return num, cmd, ""
}

func (f *firmware) reset(wall time.Time) {
	f.resetState(wall)
	f.boot(wall)
}

// resetState is the restart without the banner.
func (f *firmware) resetState(wall time.Time) {
	f.rec.count(func(r *Record) { r.Resets++ })
	f.shutdown, f.readyAt = "", time.Time{}
	f.rx, f.ep, f.cmdq, f.planner, f.blocked = nil, nil, nil, nil, nil
	f.lastN = 0
	f.report = 0
	f.hot.set(f.sim(wall), 0)
	f.bed.set(f.sim(wall), 0)
	f.mach = motion.NewMachine(motion.LimitsFor(f.cfg.Printer))
}

func (f *firmware) tempLine(wall time.Time, prefix string) string {
	t := f.sim(wall)
	return fmt.Sprintf("%sT:%.2f /%.2f B:%.2f /%.2f @:0 B@:0", prefix, f.hot.at(t), f.hot.target, f.bed.at(t), f.bed.target)
}

// exec runs one command; false means it cannot start yet (planner full).
func (f *firmware) exec(c fwCmd, wall time.Time) bool {
	cmd := gcode.Lex(c.cmd)
	switch cd := cmd.Code; cd {
	case gcode.G(0), gcode.G(1), gcode.G(2), gcode.G(3):
		if !f.instant && len(f.planner) >= f.cfg.PlannerBlocks {
			return false
		}
		d := f.motion(c)
		if f.instant {
			f.simClock += d
		} else {
			start := wall
			if n := len(f.planner); n > 0 && f.planner[n-1].After(start) {
				start = f.planner[n-1]
			}
			f.planner = append(f.planner, start.Add(f.wallFor(d)))
		}
		f.ok(wall, c)
		return true
	case gcode.G(28), gcode.G(29), gcode.G(4), gcode.M(400):
		d := f.motion(c)
		if f.instant {
			f.simClock += d
			f.ok(wall, c)
			return true
		}
		b := &blocking{cmd: c, sync: true, dur: d, nextBusy: wall.Add(f.wallFor(f.cfg.BusyInterval.Seconds()))}
		if len(f.planner) == 0 {
			b.until = wall.Add(f.wallFor(d))
		}
		f.blocked = b
		return true
	case gcode.M(104), gcode.M(140), gcode.M(109), gcode.M(190):
		f.rec.add(c, 0)
		h := &f.hot
		if cmd.Heater() == gcode.Bed {
			h = &f.bed
		}
		t := f.sim(wall)
		w, _ := gcode.ParseWords(cmd.Args) // unreadable words set nothing
		if target, ok := gcode.Target(&w); ok {
			h.set(t, target)
		}
		if cd == gcode.M(104) || cd == gcode.M(140) {
			f.ok(wall, c)
			return true
		}
		wait := h.timeTo(t, w.Has('R'))
		f.rec.count(func(r *Record) { r.HeatingSeconds += wait })
		if f.instant {
			f.simClock += wait
			f.ok(wall, c)
			return true
		}
		f.blocked = &blocking{cmd: c, until: wall.Add(f.wallFor(wait)), heat: true,
			nextBusy: wall.Add(f.wallFor(f.cfg.BusyInterval.Seconds()))}
		return true
	case gcode.M(105):
		f.rec.add(c, 0)
		f.emit(wall, "ok "+f.temps(wall)+"\n")
		return true
	case gcode.M(115):
		f.rec.add(c, 0)
		if f.flavour != flavourMarlin {
			f.emit(wall, f.m115())
			return true
		}
		f.emit(wall, f.caps())
		f.ok(wall, c)
		return true
	case gcode.M(155):
		f.rec.add(c, 0)
		w, _ := gcode.ParseWords(cmd.Args)
		if s, ok := w.Get('S'); ok && f.autoReports() {
			f.report = 0
			if s > 0 {
				f.report = time.Duration(s * float64(time.Second))
				if !f.instant {
					f.report = time.Duration(float64(f.report) / f.cfg.Speed)
				}
				f.nextReport = wall.Add(f.report)
			}
		}
		f.ok(wall, c)
		return true
	case gcode.M(112):
		f.rec.add(c, 0)
		f.halt(wall, false)
		if f.flavour == flavourKlipper {
			f.ok(wall, c)
		}
		return true
	case gcode.M(108), gcode.M(410), gcode.M(110), gcode.G(90), gcode.G(91), gcode.G(92), gcode.M(82), gcode.M(83),
		gcode.M(84), gcode.M(18), gcode.M(106), gcode.M(107), gcode.M(117), gcode.M(73),
		gcode.M(201), gcode.M(203), gcode.M(204), gcode.M(205), gcode.M(220), gcode.M(221), gcode.M(211),
		gcode.M(500), gcode.M(501), gcode.M(502), gcode.M(503), gcode.M(17), gcode.M(114),
		gcode.Code{Letter: 'M', Number: 862, Sub: 3}, gcode.G(21), gcode.M(900), gcode.M(907), gcode.G(80),
		gcode.M(999), gcode.M(300), gcode.M(75), gcode.M(76), gcode.M(77):
		f.motion(c)
		f.ok(wall, c)
		return true
	}
	f.rec.add(c, 0)
	switch f.flavour {
	case flavourKlipper:
		f.emit(wall, fmt.Sprintf("// Unknown command:%q\n", strings.ToUpper(strings.Fields(c.cmd + " ")[0])))
	case flavourRepRap:
		f.emit(wall, fmt.Sprintf("Error: Unsupported command: %s\n", c.cmd))
	default:
		f.emit(wall, fmt.Sprintf("echo:Unknown command: %q\n", c.cmd))
	}
	f.ok(wall, c)
	return true
}

// motion runs a command through the shared motion model and records it.
func (f *firmware) motion(c fwCmd) float64 {
	d, err := f.mach.Exec(c.cmd)
	if err != nil {
		d = 0
	}
	f.rec.add(c, d)
	return d
}

func (f *firmware) caps() string {
	b := func(on bool) int {
		if on {
			return 1
		}
		return 0
	}
	return fmt.Sprintf("FIRMWARE_NAME:Marlin 2.1.2 (fabgrid virtual printer) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "+
		"PROTOCOL_VERSION:1.0 MACHINE_TYPE:%s EXTRUDER_COUNT:1 UUID:00000000-0000-0000-0000-000000000000\n"+
		"Cap:SERIAL_XON_XOFF:0\nCap:EEPROM:0\nCap:AUTOREPORT_TEMP:%d\nCap:EMERGENCY_PARSER:%d\nCap:ADVANCED_OK:0\n"+
		"Cap:HOST_ACTION_COMMANDS:0\n", f.cfg.Printer.Name, b(!f.cfg.NoAutoReport), b(!f.cfg.NoEmergencyParser))
}
