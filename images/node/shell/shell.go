// Package shell is the serial-console shell of the XairrosX node image: it
// reads lines from the console, edits them (backspace, Ctrl-U, Ctrl-C), and
// answers commands about the machine it runs on through a System. It is
// plain Go, so it runs and is tested on a Linux host as well.
package shell

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Thread describes one kernel thread (or host OS thread).
type Thread struct {
	ID    int
	State string
}

// CPU describes the processor.
type CPU struct {
	Vendor, Brand string
	Features      []string
	// TSCHz is the time-stamp counter frequency; 0 if unknown.
	TSCHz uint64
}

// System is what the shell reports on: the XairrosX kernel when running on
// it, the host otherwise.
type System interface {
	// Name says where the shell runs, e.g. "XairrosX" or "Linux host".
	Name() string
	// Memory returns the total and free bytes of physical memory.
	Memory() (total, free uint64)
	Threads() []Thread
	Uptime() time.Duration
	CPU() CPU
	BootLog() []string
}

// Shell reads commands from In and writes answers to Out.
type Shell struct {
	In  io.Reader
	Out io.Writer
	Sys System
	// Echo writes typed characters back, as a serial console needs (the
	// terminal on the other end does not echo).
	Echo bool
	// Prompt is printed before each line; "" means "xairrosx> ".
	Prompt string

	afterCR bool // the last line ended with CR: skip an LF that follows
	esc     int  // escape sequence state: 0 none, 1 after ESC, 2 in CSI
}

type command struct {
	name, args, help string
	run              func(s *Shell, args []string) (exit bool, status int)
}

var commands []command

func init() {
	commands = []command{
		{"help", "", "list the commands", (*Shell).help},
		{"mem", "", "physical memory and Go heap figures", (*Shell).mem},
		{"threads", "", "kernel threads and goroutines", (*Shell).threads},
		{"uptime", "", "time since boot", (*Shell).uptime},
		{"cpuinfo", "", "processor vendor, model and features", (*Shell).cpuinfo},
		{"bootlog", "", "print the kernel's boot log again", (*Shell).bootlog},
		{"echo", "[WORDS...]", "print the words", (*Shell).echo},
		{"date", "", "the wall-clock time (UTC)", (*Shell).date},
		{"gc", "", "run the Go garbage collector and report the heap", (*Shell).gc},
		{"halt", "[STATUS]", "stop the machine (exit status 0 unless given)", (*Shell).halt},
	}
}

// Run reads and executes commands until halt or the end of the input, and
// returns the exit status the program should end with.
func (s *Shell) Run() int {
	in := bufio.NewReader(s.In)
	for {
		line, ok := s.readLine(in)
		if !ok {
			fmt.Fprintln(s.Out, "\nend of console input; halting")
			return 0
		}
		if exit, status := s.Exec(line); exit {
			return status
		}
	}
}

// Exec runs one command line and reports whether the shell should stop.
func (s *Shell) Exec(line string) (exit bool, status int) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false, 0
	}
	for _, c := range commands {
		if c.name == f[0] {
			return c.run(s, f[1:])
		}
	}
	fmt.Fprintf(s.Out, "%s: unknown command; type help for the list\n", f[0])
	return false, 0
}

// readLine prints the prompt and reads one edited line. It returns false at
// the end of the input (or Ctrl-D on an empty line). It never reads ahead:
// on a console, the byte after a line's end may not come for a long time.
func (s *Shell) readLine(in *bufio.Reader) (string, bool) {
	prompt := s.Prompt
	if prompt == "" {
		prompt = "xairrosx> "
	}
	fmt.Fprint(s.Out, prompt)
	var line []byte
	for {
		c, err := in.ReadByte()
		if err != nil {
			if len(line) > 0 {
				s.echo1("\n")
				return string(line), true
			}
			return "", false
		}
		skipLF := s.afterCR
		s.afterCR = false
		switch s.esc {
		case 1: // after ESC: a CSI or SS3 sequence follows, or nothing
			s.esc = 0
			if c == '[' || c == 'O' {
				s.esc = 2
				continue
			}
		case 2: // inside a sequence: skip up to its final byte
			if c >= 0x40 && c <= 0x7e {
				s.esc = 0
			}
			continue
		}
		switch {
		case c == '\n' && skipLF:
			// The LF of a CR LF pair: the line has ended already.
		case c == '\r' || c == '\n':
			s.afterCR = c == '\r'
			s.echo1("\n")
			return string(line), true
		case c == 0x7f || c == 0x08: // backspace, delete
			if len(line) > 0 {
				line = line[:len(line)-1]
				s.echo1("\b \b")
			}
		case c == 0x15: // Ctrl-U: erase the line
			s.echo1(strings.Repeat("\b \b", len(line)))
			line = line[:0]
		case c == 0x03: // Ctrl-C: abandon the line
			s.echo1("^C\n")
			fmt.Fprint(s.Out, prompt)
			line = line[:0]
		case c == 0x04: // Ctrl-D: end of input on an empty line
			if len(line) == 0 {
				return "", false
			}
		case c == 0x1b: // escape sequence (arrow keys...): skip it
			s.esc = 1
		case c == '\t':
			line = append(line, ' ')
			s.echo1(" ")
		case c >= 0x20:
			line = append(line, c)
			s.echo1(string(c))
		}
	}
}

func (s *Shell) echo1(text string) {
	if s.Echo {
		io.WriteString(s.Out, text)
	}
}

func (s *Shell) help([]string) (bool, int) {
	fmt.Fprintln(s.Out, "commands:")
	for _, c := range commands {
		fmt.Fprintf(s.Out, "  %-20s %s\n", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	fmt.Fprintln(s.Out, "editing: backspace, Ctrl-U erases the line, Ctrl-C abandons it")
	return false, 0
}

func (s *Shell) mem([]string) (bool, int) {
	total, free := s.Sys.Memory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(s.Out, "physical: %s total, %s free, %s used\n", size(total), size(free), size(total-min(free, total)))
	fmt.Fprintf(s.Out, "go heap:  %s in use, %s from the system, %d GC cycles\n", size(ms.HeapAlloc), size(ms.Sys), ms.NumGC)
	return false, 0
}

func (s *Shell) threads([]string) (bool, int) {
	ts := s.Sys.Threads()
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
	fmt.Fprintf(s.Out, "%d threads, %d goroutines\n", len(ts), runtime.NumGoroutine())
	fmt.Fprintln(s.Out, "     ID  STATE")
	for _, t := range ts {
		fmt.Fprintf(s.Out, "%7d  %s\n", t.ID, t.State)
	}
	return false, 0
}

func (s *Shell) uptime([]string) (bool, int) {
	fmt.Fprintf(s.Out, "up %v\n", s.Sys.Uptime().Round(time.Millisecond))
	return false, 0
}

func (s *Shell) cpuinfo([]string) (bool, int) {
	c := s.Sys.CPU()
	fmt.Fprintf(s.Out, "vendor:   %s\nmodel:    %s\ncpus:     %d\n", c.Vendor, c.Brand, runtime.NumCPU())
	if c.TSCHz > 0 {
		fmt.Fprintf(s.Out, "tsc:      %.1f MHz\n", float64(c.TSCHz)/1e6)
	}
	fmt.Fprintf(s.Out, "features: %s\n", strings.Join(c.Features, " "))
	return false, 0
}

func (s *Shell) bootlog([]string) (bool, int) {
	for _, l := range s.Sys.BootLog() {
		fmt.Fprintln(s.Out, l)
	}
	return false, 0
}

func (s *Shell) echo(args []string) (bool, int) {
	fmt.Fprintln(s.Out, strings.Join(args, " "))
	return false, 0
}

func (s *Shell) date([]string) (bool, int) {
	fmt.Fprintln(s.Out, time.Now().UTC().Format(time.RFC1123))
	return false, 0
}

func (s *Shell) gc([]string) (bool, int) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	runtime.GC()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	fmt.Fprintf(s.Out, "GC took %v: heap %s -> %s\n", d.Round(time.Microsecond), size(before.HeapAlloc), size(after.HeapAlloc))
	return false, 0
}

func (s *Shell) halt(args []string) (bool, int) {
	status := 0
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 || n > 255 || len(args) > 1 {
			fmt.Fprintln(s.Out, "usage: halt [STATUS], STATUS from 0 to 255")
			return false, 0
		}
		status = n
	}
	fmt.Fprintln(s.Out, "halting")
	return true, status
}

// size formats a byte count in binary units.
func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
