package profile

import "strings"

// Firmware flavours a printer profile names in its "firmware" field. The
// host in printerdrv reads the flavour to know the firmware's answers; the
// names are the ones people know the firmware by, lower case.
const (
	// FirmwareMarlin is Marlin 1.1 and 2.x, and vendor forks that answer
	// as Marlin does (Creality, Anycubic, Elegoo, Artillery, Sovol).
	FirmwareMarlin = "marlin"
	// FirmwarePrusa is Prusa-Firmware (MK3S) and Prusa-Firmware-Buddy
	// (MINI, MK4, XL): Marlin-derived, with Prusa's own G-codes (M862).
	FirmwarePrusa = "prusa"
	// FirmwareKlipper is Klipper, reached through the pseudo-terminal its
	// host exposes (/tmp/printer, or Moonraker's).
	FirmwareKlipper = "klipper"
	// FirmwareRepRap is RepRapFirmware on Duet boards.
	FirmwareRepRap = "reprapfirmware"
)

// Firmwares lists the known flavours.
func Firmwares() []string {
	return []string{FirmwareMarlin, FirmwarePrusa, FirmwareKlipper, FirmwareRepRap}
}

// FirmwareFromM115 names the flavour an M115 FIRMWARE_NAME answer belongs
// to, or "" when it is none of the known ones.
func FirmwareFromM115(line string) string {
	l := strings.ToLower(line)
	switch {
	case strings.Contains(l, "prusa-firmware"):
		return FirmwarePrusa
	case strings.Contains(l, "klipper"):
		return FirmwareKlipper
	case strings.Contains(l, "reprapfirmware"):
		return FirmwareRepRap
	case strings.Contains(l, "marlin"):
		return FirmwareMarlin
	}
	return ""
}
