package virtio

import (
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/xairrosx/xairrosx/kernel"
)

// Interrupt dispatch. PCI INTx lines are shared (every virtio device on a
// q35 machine may sit on the same line) and the kernel wakes one waiter per
// line, so each line has one goroutine, locked to its thread, that waits
// for the line and then runs every handler registered on it; each handler
// reads its own device's ISR status, which acknowledges that device.

// waitIRQ blocks until a legacy interrupt line fires (kernel.IRQWait).
var waitIRQ = kernel.IRQWait

var (
	irqMu    sync.Mutex
	irqLines [16]*irqLine
)

type irqLine struct {
	mu       sync.Mutex
	handlers []func()
}

// HandleIRQ runs fn after every interrupt on legacy line (0-15), from the
// line's dispatcher goroutine, which it starts on first use.
func HandleIRQ(line int, fn func()) error {
	if line < 0 || line > 15 {
		return fmt.Errorf("virtio: interrupt line %d out of range 0-15", line)
	}
	irqMu.Lock()
	defer irqMu.Unlock()
	l := irqLines[line]
	if l == nil {
		l = &irqLine{}
		irqLines[line] = l
		defer func() { go l.loop(line) }()
	}
	l.mu.Lock()
	l.handlers = append(l.handlers, fn)
	l.mu.Unlock()
	return nil
}

func (l *irqLine) loop(line int) {
	runtime.LockOSThread()
	for {
		if err := waitIRQ(line); err != nil {
			fmt.Fprintf(os.Stderr, "virtio: waiting for IRQ %d: %v; its devices get no more interrupts\n", line, err)
			return
		}
		l.mu.Lock()
		hs := l.handlers
		l.mu.Unlock()
		for _, h := range hs {
			h()
		}
		// The handlers have readied the goroutines waiting for
		// completions, onto this thread's P. IRQWait is a blocking system
		// call that keeps the P until sysmon takes it back (up to
		// milliseconds later); yield first so they run now.
		runtime.Gosched()
	}
}
