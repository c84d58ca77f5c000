// Package qemu boots a XairrosX image under QEMU (TCG, no KVM) and turns
// the guest's end into an exit status.
//
// Wiring: COM1 (0x3f8) is the guest's console, its stdin, stdout and
// stderr; it is connected to the Stdin and Stdout of the Config, so the
// guest's stderr arrives on the host's stdout too, interleaved as the guest
// wrote it. COM2 (0x2f8) goes to a temporary file: just before it exits the
// kernel writes "XAIRROSX-EXIT n" there, then writes n&0x7f to the
// isa-debug-exit port 0x501, which makes QEMU exit with ((n&0x7f)<<1)|1.
// The exit status of Run is n from COM2 when the line is there, else the one
// decoded from QEMU's status. QEMU exiting with status 0 (a reset or a triple
// fault under -no-reboot) is reported as ErrNoExit.
package qemu

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
)

// Machines lists the QEMU machine types XairrosX boots on.
var Machines = []string{"microvm", "pc", "q35"}

// DefaultMachine is the machine type used when Config.Machine is empty.
const DefaultMachine = "q35"

// Exit statuses reported for ends that are not the guest's own exit.
const (
	// StatusFault is the status the kernel exits with after a kernel fault.
	StatusFault = 101
	// StatusTimeout is reported when the guest ran past Config.Timeout.
	StatusTimeout = 124
	// StatusNoExit is reported when QEMU ended without a guest exit status.
	StatusNoExit = 125
)

// ExitLinePrefix starts the control line the kernel writes on COM2.
const ExitLinePrefix = "XAIRROSX-EXIT "

// Errors that Run reports for a guest that did not exit by itself.
var (
	ErrTimeout     = errors.New("guest did not exit in time")
	ErrNoExit      = errors.New("QEMU ended without a guest exit status (guest reset, shut down or triple-faulted)")
	ErrInterrupted = errors.New("interrupted")
)

// Config describes one QEMU run.
type Config struct {
	// Image is the patched ELF image to boot.
	Image string
	// Machine is microvm, pc or q35 ("" means DefaultMachine).
	Machine string
	// Mem is the guest memory in bytes (0 means 256 MiB).
	Mem uint64
	// SMP is the number of virtual CPUs (0 means 1).
	SMP int
	// Cmdline is the kernel command line (-append).
	Cmdline string
	// Timeout kills a guest that runs longer; 0 means no limit.
	Timeout time.Duration
	// GDB makes QEMU wait for a debugger on tcp::1234 (-s -S).
	GDB bool
	// Stdin feeds COM1 input; nil means no input. Stdout receives COM1
	// output and Stderr QEMU's own messages; nil discards them.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interactive hands the controlling terminal to QEMU: QEMU stays in
	// the foreground process group so it can read the terminal and put it
	// into raw mode. Use it only when Stdin is a terminal.
	Interactive bool
	// QEMU is the emulator binary ("" means qemu-system-x86_64).
	QEMU string
	// Extra holds additional QEMU arguments.
	Extra []string
}

// Result describes how a run ended.
type Result struct {
	// Status is the guest's exit status, or one of the Status constants.
	Status int
	// ExitLine reports whether the kernel's COM2 exit line was seen.
	ExitLine bool
	// QEMUStatus is QEMU's own exit status (-1 when it was killed).
	QEMUStatus int
	// Fault reports a kernel fault (status 101 from the kernel).
	Fault bool
	// Elapsed is the wall time from starting QEMU to its exit.
	Elapsed time.Duration
}

// Args returns the QEMU command line for c, with com2 as the path of the
// COM2 file.
func Args(c Config, com2 string) ([]string, error) {
	machine := c.Machine
	if machine == "" {
		machine = DefaultMachine
	}
	known := false
	for _, m := range Machines {
		known = known || m == machine
	}
	if !known {
		return nil, fmt.Errorf("unknown machine %q: want one of %s", machine, strings.Join(Machines, ", "))
	}
	mem := c.Mem
	if mem == 0 {
		mem = 256 << 20
	}
	if mem%(1<<20) != 0 {
		return nil, fmt.Errorf("memory size %d is not a whole number of MiB", mem)
	}
	smp := c.SMP
	if smp == 0 {
		smp = 1
	}
	if smp < 1 || smp > 255 {
		return nil, fmt.Errorf("bad CPU count %d: want 1 to 255", smp)
	}
	args := []string{
		"-machine", machine, "-cpu", "max",
		"-m", image.FormatSize(mem), "-smp", strconv.Itoa(smp),
		"-kernel", c.Image, "-append", c.Cmdline,
		"-nodefaults", "-no-reboot", "-display", "none",
		"-chardev", "stdio,id=com1,signal=on",
		// QEMU option lists escape a comma by doubling it.
		"-chardev", "file,id=com2,path=" + strings.ReplaceAll(com2, ",", ",,"),
	}
	if machine == "microvm" {
		// microvm has one ISA serial port built in; add COM2 by hand.
		args = append(args, "-serial", "chardev:com1",
			"-device", "isa-serial,iobase=0x2f8,irq=3,chardev=com2")
	} else {
		args = append(args, "-serial", "chardev:com1", "-serial", "chardev:com2")
	}
	args = append(args, "-device", "isa-debug-exit,iobase=0x501,iosize=2")
	if c.GDB {
		args = append(args, "-s", "-S")
	}
	return append(args, c.Extra...), nil
}

// Run boots the image and waits for the guest to end, the timeout to pass
// or ctx to be cancelled; in the last two cases QEMU is killed. The error
// is nil only when the guest exited with a status of its own (Result.Status;
// a kernel fault counts, with Result.Fault set).
func Run(ctx context.Context, c Config) (Result, error) {
	res := Result{QEMUStatus: -1}
	if _, err := os.Stat(c.Image); err != nil {
		return res, fmt.Errorf("image: %v", err)
	}
	dir, err := os.MkdirTemp("", "xairrosx-qemu-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	com2 := filepath.Join(dir, "com2")
	args, err := Args(c, com2)
	if err != nil {
		return res, err
	}
	bin := c.QEMU
	if bin == "" {
		bin = "qemu-system-x86_64"
	}
	if _, err := exec.LookPath(bin); err != nil {
		return res, fmt.Errorf("%s not found: install QEMU (Debian package qemu-system-x86, or run scripts/deps-kernel.sh)", bin)
	}

	cmd := exec.Command(bin, args...)
	cmd.Stdin = c.Stdin // nil: /dev/null
	cmd.Stdout = c.Stdout
	var qerr tailBuffer
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(c.Stderr, &qerr)
	} else {
		cmd.Stderr = &qerr
	}
	// Outside interactive use QEMU gets a process group of its own, so a
	// kill reaches everything it started; either way it dies with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !c.Interactive, Pdeathsig: syscall.SIGKILL}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting QEMU: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timeout <-chan time.Time
	if c.Timeout > 0 {
		t := time.NewTimer(c.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var werr, reason error
	select {
	case werr = <-done:
	case <-timeout:
		reason = ErrTimeout
	case <-ctx.Done():
		reason = ErrInterrupted
	}
	if reason != nil {
		stop(cmd, !c.Interactive, done)
		res.Elapsed = time.Since(start)
		if reason == ErrTimeout {
			res.Status = StatusTimeout
			return res, fmt.Errorf("%w: killed QEMU after %v", ErrTimeout, c.Timeout)
		}
		res.Status = 128 + int(syscall.SIGINT)
		return res, reason
	}
	res.Elapsed = time.Since(start)
	if werr != nil {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			return res, fmt.Errorf("running QEMU: %v", werr)
		}
	}
	res.QEMUStatus = cmd.ProcessState.ExitCode()
	line, ok := readExitLine(com2)
	switch {
	case ok:
		res.Status, res.ExitLine = line, true
	case res.QEMUStatus == 0:
		res.Status = StatusNoExit
		return res, ErrNoExit
	case res.QEMUStatus < 0:
		res.Status = StatusNoExit
		return res, fmt.Errorf("QEMU was killed: %v", cmd.ProcessState)
	case res.QEMUStatus == 1 && qerr.Len() > 0, res.QEMUStatus%2 == 0:
		// Odd statuses come from isa-debug-exit; QEMU's own failures
		// are 1 (with a message) or other even values.
		res.Status = StatusNoExit
		return res, fmt.Errorf("QEMU failed with status %d: %s", res.QEMUStatus, strings.TrimSpace(qerr.String()))
	default:
		res.Status = res.QEMUStatus >> 1
	}
	res.Fault = res.Status == StatusFault
	return res, nil
}

// stop ends QEMU (its whole process group when it has one) and waits for
// it: SIGTERM first, so that QEMU restores the terminal it put into raw
// mode, then SIGKILL if it is still there after a grace period.
func stop(cmd *exec.Cmd, group bool, done <-chan error) {
	signal := func(sig syscall.Signal) {
		if group {
			_ = syscall.Kill(-cmd.Process.Pid, sig)
		}
		_ = cmd.Process.Signal(sig)
	}
	signal(syscall.SIGTERM)
	select {
	case <-done:
		return
	case <-time.After(2 * time.Second):
	}
	signal(syscall.SIGKILL)
	<-done
}

// readExitLine returns n from the last "XAIRROSX-EXIT n" line in the file.
func readExitLine(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return ParseExitLine(f)
}

// ParseExitLine returns n from the last well-formed "XAIRROSX-EXIT n" line
// (0 <= n <= 255) read from r.
func ParseExitLine(r io.Reader) (int, bool) {
	status, found := 0, false
	s := bufio.NewScanner(r)
	for s.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimRight(s.Text(), "\r"), ExitLinePrefix)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n <= 255 {
			status, found = n, true
		}
	}
	return status, found
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) Len() int       { return len(t.b) }
func (t *tailBuffer) String() string { return string(t.b) }
