package shell

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Host is the System of a Linux host (or of any kernel without the
// XairrosX API): it reads /proc where it can and falls back to the Go
// runtime's own figures.
type Host struct {
	// Start is when the program started; Uptime counts from it.
	Start time.Time
}

// Name implements System.
func (h Host) Name() string { return runtime.GOOS + " host" }

// Memory implements System with /proc/meminfo, or the Go runtime's view.
func (h Host) Memory() (total, free uint64) {
	m := procKV("/proc/meminfo", ":")
	t, _ := strconv.ParseUint(strings.TrimSuffix(m["MemTotal"], " kB"), 10, 64)
	f, _ := strconv.ParseUint(strings.TrimSuffix(m["MemAvailable"], " kB"), 10, 64)
	if t > 0 {
		return t << 10, f << 10
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys, ms.Sys - ms.HeapInuse - ms.StackInuse
}

// Threads implements System with /proc/self/task.
func (h Host) Threads() []Thread {
	dirs, _ := filepath.Glob("/proc/self/task/[0-9]*")
	var ts []Thread
	for _, d := range dirs {
		id, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		state := "?"
		if b, err := os.ReadFile(filepath.Join(d, "stat")); err == nil {
			if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
				state = threadState(b[i+2])
			}
		}
		ts = append(ts, Thread{ID: id, State: state})
	}
	return ts
}

func threadState(c byte) string {
	switch c {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "waiting (disk)"
	case 'T', 't':
		return "stopped"
	case 'Z':
		return "zombie"
	}
	return string(c)
}

// Uptime implements System: the time since Start.
func (h Host) Uptime() time.Duration { return time.Since(h.Start) }

// CPU implements System with /proc/cpuinfo.
func (h Host) CPU() CPU {
	m := procKV("/proc/cpuinfo", ":")
	c := CPU{Vendor: m["vendor_id"], Brand: m["model name"], Features: strings.Fields(m["flags"])}
	if c.Vendor == "" {
		c.Vendor = runtime.GOARCH
	}
	return c
}

// BootLog implements System: a host has no XairrosX boot log.
func (h Host) BootLog() []string {
	return []string{"running on a " + h.Name() + ": no XairrosX boot log"}
}

// procKV reads "key: value" lines of a /proc file (the first of each key).
func procKV(path, sep string) map[string]string {
	m := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), sep)
		k = strings.TrimSpace(k)
		if _, seen := m[k]; ok && !seen {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}
