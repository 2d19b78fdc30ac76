package profile

import (
	"errors"
	"fmt"
)

// ErrIncompatible is returned when a material cannot be printed on a
// printer as profiled.
var ErrIncompatible = errors.New("profile: material does not suit the printer")

// Compatible reports whether printer p can print material m: its hotend and
// bed reach the material's temperatures.
func Compatible(p Printer, m Material) error {
	if hot := max(m.HotendC, m.FirstLayerHotendC); hot > p.MaxHotendC {
		return fmt.Errorf("%w: %s needs a %g °C hotend; the %s profile allows at most %g °C", ErrIncompatible, m.ID, hot, p.ID, p.MaxHotendC)
	}
	if bed := max(m.BedC, m.FirstLayerBedC); bed > p.MaxBedC {
		return fmt.Errorf("%w: %s needs a %g °C bed; the %s profile allows at most %g °C", ErrIncompatible, m.ID, bed, p.ID, p.MaxBedC)
	}
	return nil
}
