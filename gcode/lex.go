package gcode

import (
	"fmt"
	"math"
	"strconv"
)

// Code is a normalised command code: a letter and a number, with an optional
// subcode after a dot (M862.3). "G01", "g1" and "G1" are all G(1). The zero
// Code is no code: a command word that is not a letter followed by digits
// (a Klipper macro such as START_PRINT, or a bare letter).
type Code struct {
	Letter byte // upper case
	Number int
	Sub    int // the number after the dot; 0 when there is none
}

// G returns the code Gn.
func G(n int) Code { return Code{Letter: 'G', Number: n} }

// M returns the code Mn.
func M(n int) Code { return Code{Letter: 'M', Number: n} }

// String returns the code as written in canonical form ("G1", "M862.3").
func (c Code) String() string {
	if c.Letter == 0 {
		return ""
	}
	s := string(c.Letter) + strconv.Itoa(c.Number)
	if c.Sub != 0 {
		s += "." + strconv.Itoa(c.Sub)
	}
	return s
}

// IsMove reports the motion codes G0, G1, G2 and G3.
func (c Code) IsMove() bool { return c.Letter == 'G' && c.Number >= 0 && c.Number <= 3 && c.Sub == 0 }

// Command is one bare command (see Strip) split into its command word and
// the rest.
type Command struct {
	Text string // the command as given
	Word string // the command word as written: "G01", "m104", "START_PRINT"
	Code Code   // Word normalised; zero when Word is no code
	Args string // the parameters after the command word, leading space trimmed
}

// maxCodeNumber bounds code numbers; a longer run of digits is no code.
const maxCodeNumber = 1 << 20

// Lex splits a bare command into its command word and parameters. The word
// ends at white space or, as Marlin reads it, at the first letter after its
// digits: "M104S300" is M104 with S300. Lex allocates nothing.
func Lex(cmd string) Command {
	i := 0
	for i < len(cmd) && isSpace(cmd[i]) {
		i++
	}
	s := cmd[i:]
	c := Command{Text: cmd}
	if s == "" {
		return c
	}
	end := 0
	if l := upper(s[0]); l >= 'A' && l <= 'Z' && len(s) > 1 && isDigit(s[1]) {
		n, j := 0, 1
		for j < len(s) && isDigit(s[j]) {
			if n < maxCodeNumber {
				n = n*10 + int(s[j]-'0')
			}
			j++
		}
		sub := 0
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j++
			for j < len(s) && isDigit(s[j]) {
				if sub < maxCodeNumber {
					sub = sub*10 + int(s[j]-'0')
				}
				j++
			}
		}
		if j == len(s) || isSpace(s[j]) || isLetter(s[j]) {
			if n < maxCodeNumber && sub < maxCodeNumber {
				c.Code = Code{Letter: l, Number: n, Sub: sub}
			}
			end = j
		}
	}
	if c.Code.Letter == 0 {
		for end < len(s) && !isSpace(s[end]) {
			end++
		}
	}
	c.Word = s[:end]
	rest := s[end:]
	for len(rest) > 0 && isSpace(rest[0]) {
		rest = rest[1:]
	}
	c.Args = rest
	return c
}

func isLetter(c byte) bool { c = upper(c); return c >= 'A' && c <= 'Z' }

// Words are the parameters of one command, "X10.5 Y-3 F1200": a value per
// letter and which letters were given. A letter without a number is 0; when
// a letter is given twice the last one counts.
type Words struct {
	v   [26]float64
	has uint32 // bit i: letter 'A'+i was given
	n   int    // words given, letters or not
}

// Get returns the value of letter k (upper case) and whether it was given.
func (w *Words) Get(k byte) (float64, bool) {
	if k < 'A' || k > 'Z' {
		return 0, false
	}
	i := k - 'A'
	return w.v[i], w.has&(1<<i) != 0
}

// Has reports whether letter k (upper case) was given.
func (w *Words) Has(k byte) bool {
	_, ok := w.Get(k)
	return ok
}

// Or returns the value of letter k, or def when it was not given.
func (w *Words) Or(k byte, def float64) float64 {
	if v, ok := w.Get(k); ok {
		return v
	}
	return def
}

// Len is the number of words given, letters or not.
func (w *Words) Len() int { return w.n }

// ParseWords parses a command's parameters (Command.Args). Words are
// separated by ASCII white space; every word's number must be finite (else
// ErrBadNumber); words that do not start with a letter are checked and
// ignored. It allocates nothing unless it fails.
func ParseWords(args string) (Words, error) {
	var w Words
	for a, rest := NextWord(args); a != ""; a, rest = NextWord(rest) {
		w.n++
		k := upper(a[0])
		v := 0.0
		if len(a) > 1 {
			var ok bool
			if v, ok = parseNumber(a[1:]); !ok {
				return Words{}, fmt.Errorf("%w: %q", ErrBadNumber, a)
			}
		}
		if k >= 'A' && k <= 'Z' {
			w.v[k-'A'] = v
			w.has |= 1 << (k - 'A')
		}
	}
	return w, nil
}

// NextWord splits off the first word of s, skipping ASCII white space.
// It returns "" when s holds no more words.
func NextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a finite number as strconv.ParseFloat does. Plain
// decimals ("-12.345") take the exact fast path (an integer mantissa below
// 2^53 divided by an exact power of ten is correctly rounded, the same
// value ParseFloat returns); anything else goes to ParseFloat.
func parseNumber(s string) (float64, bool) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var mant uint64
	digits, frac, seenDot := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			mant = mant*10 + uint64(c-'0')
			digits++
			if seenDot {
				frac++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			digits = 100 // not a plain decimal
		}
		if digits > 15 {
			break
		}
	}
	if digits > 0 && digits <= 15 && i == len(s) {
		v := float64(mant) / pow10[frac]
		if neg {
			v = -v
		}
		return v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
