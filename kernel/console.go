package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// The console is a 16550 UART at COM1 (the program's stdin, stdout and
// stderr). COM2 carries control lines for the host tool (the exit status).

const (
	com1 = 0x3f8
	com2 = 0x2f8

	uartData = 0 // RBR/THR
	uartIER  = 1
	uartFCR  = 2
	uartLCR  = 3
	uartMCR  = 4
	uartLSR  = 5

	lsrDataReady = 1 << 0
	lsrTHREmpty  = 1 << 5
)

// uartInit programs a UART for 115200 8N1 with FIFOs, and enables its
// receive interrupt when rxIRQ is set.
func uartInit(base uint16, rxIRQ bool) {
	amd64.Outb(base+uartIER, 0)
	amd64.Outb(base+uartLCR, 0x80) // DLAB
	amd64.Outb(base+uartData, 1)   // divisor 1: 115200 baud
	amd64.Outb(base+uartIER, 0)
	amd64.Outb(base+uartLCR, 0x03) // 8N1
	amd64.Outb(base+uartFCR, 0x07) // enable and clear FIFOs
	amd64.Outb(base+uartMCR, 0x0B) // DTR, RTS, OUT2 (IRQ line enable)
	if rxIRQ {
		amd64.Outb(base+uartIER, 0x01)
	}
}

func uartPut(base uint16, c byte) {
	for i := 0; i < 1<<20; i++ {
		if amd64.Inb(base+uartLSR)&lsrTHREmpty != 0 {
			break
		}
	}
	amd64.Outb(base+uartData, c)
}

// putc writes one byte to the console.
func putc(c byte) { uartPut(com1, c) }

// prints writes a string to the console.
func prints(s string) {
	for i := 0; i < len(s); i++ {
		putc(s[i])
	}
}

// printBytes writes a byte slice to the console.
func printBytes(b []byte) {
	for _, c := range b {
		putc(c)
	}
}

// decimal formats v into buf and returns the digits.
func decimal(buf *[20]byte, v uint64) []byte {
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return buf[i:]
}

// printu writes v in decimal.
func printu(v uint64) {
	var buf [20]byte
	printBytes(decimal(&buf, v))
}

// printi writes v in decimal with a sign.
func printi(v int64) {
	if v < 0 {
		putc('-')
		printu(uint64(-v))
		return
	}
	printu(uint64(v))
}

// printx writes v as 0x followed by 16 hex digits.
func printx(v uint64) {
	const hex = "0123456789abcdef"
	var buf [18]byte
	buf[0], buf[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		buf[17-i] = hex[v&15]
		v >>= 4
	}
	printBytes(buf[:])
}

// Console input: the UART's receive interrupt fills a ring that read(0)
// drains.
var (
	inBuf        [4096]byte
	inHead       uint32 // next byte to read
	inTail       uint32 // next free slot
	consoleWaits uint32 // threads blocked reading the console
)

func inputLen() uint32 { return inTail - inHead }

// consoleInterrupt drains the UART's receive FIFO into the ring.
func consoleInterrupt() {
	got := false
	for amd64.Inb(com1+uartLSR)&lsrDataReady != 0 {
		c := amd64.Inb(com1 + uartData)
		if inputLen() < uint32(len(inBuf)) {
			inBuf[inTail%uint32(len(inBuf))] = c
			inTail++
			got = true
		}
	}
	if got {
		wakeConsoleReaders()
		notifyReady(fdConsole, -1)
	}
}

// consoleRead copies buffered input into p and returns how many bytes.
func consoleRead(p []byte) int {
	n := 0
	for n < len(p) && inputLen() > 0 {
		p[n] = inBuf[inHead%uint32(len(inBuf))]
		inHead++
		n++
	}
	return n
}

// Boot log: lines the kernel printed while booting, kept for BootLog.
var (
	bootLog    [4096]byte
	bootLogLen int
	quiet      bool
)

// logs writes s to the console (unless booted quiet) and the boot log.
func logs(s string) {
	if !quiet {
		prints(s)
	}
	for i := 0; i < len(s) && bootLogLen < len(bootLog); i++ {
		bootLog[bootLogLen] = s[i]
		bootLogLen++
	}
}

// logu appends a decimal number to the boot log (and console).
func logu(v uint64) {
	var buf [20]byte
	logBytes(decimal(&buf, v))
}

func logBytes(b []byte) {
	for _, c := range b {
		if !quiet {
			putc(c)
		}
		if bootLogLen < len(bootLog) {
			bootLog[bootLogLen] = c
			bootLogLen++
		}
	}
}
