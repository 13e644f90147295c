package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Ways the peak RSS is measured, as Report.PeakRSSMethod names them.
const (
	// RSSMethodHWM: "5" written to /proc/self/clear_refs reset the kernel's
	// high-water mark to the current RSS, and VmHWM from /proc/self/status
	// is the peak since then: the peak of the measured work alone.
	RSSMethodHWM = "vmhwm-reset"
	// RSSMethodRusage: getrusage's ru_maxrss, the peak over the whole life
	// of the process, used when the mark cannot be reset (an older kernel,
	// a read-only /proc). It includes whatever ran before the measured work.
	RSSMethodRusage = "getrusage-maxrss"
)

// RSSMeter measures the peak resident set size of this process from
// StartRSS on.
type RSSMeter struct {
	method string
}

// StartRSS resets the peak-RSS mark when the system allows it and starts a
// meter. Call runtime.GC and debug.FreeOSMemory first so that memory freed by
// earlier work does not count.
func StartRSS() *RSSMeter {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err == nil {
		if _, err := procStatus("VmHWM:"); err == nil {
			return &RSSMeter{method: RSSMethodHWM}
		}
	}
	return &RSSMeter{method: RSSMethodRusage}
}

// Method says how Peak measures: RSSMethodHWM or RSSMethodRusage.
func (m *RSSMeter) Method() string { return m.method }

// Peak returns the peak resident set size in bytes.
func (m *RSSMeter) Peak() (int64, error) {
	if m.method == RSSMethodHWM {
		return procStatus("VmHWM:")
	}
	return maxRSS()
}

// CurrentRSS returns the resident set size now, in bytes (Linux only).
func CurrentRSS() (int64, error) { return procStatus("VmRSS:") }

// procStatus reads a "Name:   123 kB" line of /proc/self/status, in bytes.
func procStatus(name string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(name))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("bench: unexpected /proc/self/status line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /proc/self/status %s: %w", name, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return 0, fmt.Errorf("bench: no %s in /proc/self/status: %w", name, errors.ErrUnsupported)
}
