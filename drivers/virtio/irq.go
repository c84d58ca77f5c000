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
	irqLines [maxIRQ + 1]*irqLine
)

// irqLine is one line's handlers. mu is held while they run, so that a
// removed handler is not running once remove returns.
type irqLine struct {
	mu       sync.Mutex
	next     int
	handlers map[int]func()
}

// maxIRQ is the highest interrupt number kernel.IRQWait takes.
const maxIRQ = 63

// HandleIRQ runs fn after every interrupt on line (an ISA IRQ 0-15, a GSI
// 16-47 where the kernel uses I/O APICs, or an MSI line from
// kernel.AllocMSI; see kernel.IRQWait), from the
// line's dispatcher goroutine, which it starts on first use. remove
// unregisters fn; once it returns, fn is not running and will not run.
// fn must not call HandleIRQ or remove.
func HandleIRQ(line int, fn func()) (remove func(), err error) {
	if line < 0 || line > maxIRQ {
		return nil, fmt.Errorf("virtio: interrupt line %d out of range 0-%d", line, maxIRQ)
	}
	irqMu.Lock()
	defer irqMu.Unlock()
	l := irqLines[line]
	if l == nil {
		l = &irqLine{handlers: map[int]func(){}}
		irqLines[line] = l
		defer func() { go l.loop(line) }()
	}
	l.mu.Lock()
	id := l.next
	l.next++
	l.handlers[id] = fn
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.handlers, id)
		l.mu.Unlock()
	}, nil
}

func (l *irqLine) loop(line int) {
	runtime.LockOSThread()
	for {
		if err := waitIRQ(line); err != nil {
			fmt.Fprintf(os.Stderr, "virtio: waiting for IRQ %d: %v; its devices get no more interrupts\n", line, err)
			return
		}
		l.mu.Lock()
		for _, h := range l.handlers {
			h()
		}
		l.mu.Unlock()
		// The handlers have readied the goroutines waiting for
		// completions, onto this thread's P. IRQWait is a blocking system
		// call that keeps the P until sysmon takes it back (up to
		// milliseconds later); yield first so they run now.
		runtime.Gosched()
	}
}
