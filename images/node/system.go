package main

import (
	"fmt"
	"time"

	"github.com/xairrosx/xairrosx/images/node/shell"
	"github.com/xairrosx/xairrosx/kernel"
)

// system returns what the shell reports on: the XairrosX kernel's
// information API when running on it, the host otherwise.
func system() shell.System {
	if kernel.Running() {
		return kernelSystem{}
	}
	return shell.Host{Start: start}
}

// onKernel reports whether the program runs on XairrosX.
func onKernel() bool { return kernel.Running() }

// kernelSystem answers through package kernel.
type kernelSystem struct{}

// Name implements shell.System.
func (kernelSystem) Name() string { return "XairrosX" }

// Memory implements shell.System.
func (kernelSystem) Memory() (total, free uint64) {
	m := kernel.Memory()
	return m.TotalBytes, m.FreeBytes
}

// Threads implements shell.System; a blocked thread's state names what it
// waits for, and every state carries the thread's CPU time.
func (kernelSystem) Threads() []shell.Thread {
	var ts []shell.Thread
	for _, t := range kernel.Threads() {
		state := t.State
		if t.Wait != "" {
			state += " (" + t.Wait + ")"
		}
		state = fmt.Sprintf("%-24s cpu %v", state, t.CPUTime.Round(time.Microsecond))
		ts = append(ts, shell.Thread{ID: t.ID, State: state})
	}
	return ts
}

// Uptime implements shell.System.
func (kernelSystem) Uptime() time.Duration { return kernel.Uptime() }

// CPU implements shell.System.
func (kernelSystem) CPU() shell.CPU {
	c := kernel.CPU()
	return shell.CPU{Vendor: c.Vendor, Brand: c.Brand, Features: c.Features, TSCHz: c.TSCHz}
}

// BootLog implements shell.System.
func (kernelSystem) BootLog() []string { return kernel.BootLog() }
