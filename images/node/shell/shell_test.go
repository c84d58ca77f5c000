package shell

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// fake is a System with fixed answers.
type fake struct{}

func (fake) Name() string                 { return "fake" }
func (fake) Memory() (total, free uint64) { return 256 << 20, 200 << 20 }
func (fake) Threads() []Thread {
	return []Thread{{ID: 3, State: "sleeping"}, {ID: 1, State: "running"}}
}
func (fake) Uptime() time.Duration { return 1500 * time.Millisecond }
func (fake) CPU() CPU {
	return CPU{Vendor: "GenuineIntel", Brand: "QEMU TCG", Features: []string{"sse2", "avx2"}, TSCHz: 2_500_000_000}
}
func (fake) BootLog() []string { return []string{"boot line 1", "boot line 2"} }

func run(t *testing.T, input string, echo bool) (string, int) {
	t.Helper()
	var out bytes.Buffer
	s := &Shell{In: strings.NewReader(input), Out: &out, Sys: fake{}, Echo: echo}
	done := make(chan int, 1)
	go func() { done <- s.Run() }()
	select {
	case st := <-done:
		return out.String(), st
	case <-time.After(10 * time.Second):
		t.Fatal("shell did not finish")
		return "", 0
	}
}

func TestCommands(t *testing.T) {
	out, status := run(t, "help\nmem\nthreads\nuptime\ncpuinfo\nbootlog\necho  a   b c\ndate\ngc\nhalt\necho never\n", false)
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
	for _, want := range []string{
		"  halt [STATUS]", "  mem ", "  threads ", "  uptime ", "  cpuinfo ", "  echo [WORDS...]",
		"physical: 256.0 MiB total, 200.0 MiB free, 56.0 MiB used",
		"2 threads,", "      1  running\n      3  sleeping\n",
		"up 1.5s\n",
		"vendor:   GenuineIntel\nmodel:    QEMU TCG\n", "tsc:      2500.0 MHz", "features: sse2 avx2\n",
		"boot line 1\nboot line 2\n",
		"xairrosx> a b c\n",
		"GC took ",
		"halting\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "never") {
		t.Error("the shell went on after halt")
	}
}

func TestUnknownCommandAndHaltStatus(t *testing.T) {
	out, status := run(t, "frobnicate now\n\nhalt 300\nhalt x\nhalt 7\n", false)
	if !strings.Contains(out, "frobnicate: unknown command; type help for the list\n") {
		t.Errorf("no clear error for an unknown command:\n%s", out)
	}
	if strings.Count(out, "usage: halt") != 2 {
		t.Errorf("bad halt arguments not refused twice:\n%s", out)
	}
	if status != 7 {
		t.Errorf("status %d, want 7", status)
	}
}

func TestLineEditing(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ecgo\x7f\x7fho hi\r", "hi"},        // backspace (DEL)
		{"echo x\x08y\r\n", "y"},             // backspace (BS), CR LF as one line end
		{"garbage\x15echo clean\r", "clean"}, // Ctrl-U
		{"echo \x1b[Aup\r", "up"},            // an arrow key is ignored
		{"echo\ttab\n", "tab"},               // tab is a space
	}
	for _, c := range cases {
		out, _ := run(t, c.in+"halt\n", false)
		if !strings.Contains(out, "xairrosx> "+c.want+"\nxairrosx> halting") {
			t.Errorf("input %q: output %q, want the line %q", c.in, out, c.want)
		}
	}
	out, _ := run(t, "echo lost\x03echo kept\rhalt\r", true)
	if !strings.Contains(out, "echo lost^C\nxairrosx> echo kept\nkept\n") || strings.Contains(out, "lost\n") {
		t.Errorf("Ctrl-C did not abandon the line: %q", out)
	}
}

func TestEcho(t *testing.T) {
	out, _ := run(t, "echi\x7fo hi\rhalt\r", true)
	if want := "xairrosx> echi\b \bo hi\nhi\nxairrosx> halt\nhalting\n"; out != want {
		t.Errorf("echoed output %q, want %q", out, want)
	}
	out, _ = run(t, "echo hi\rhalt\r", false)
	if want := "xairrosx> hi\nxairrosx> halting\n"; out != want {
		t.Errorf("output without echo %q, want %q", out, want)
	}
}

func TestEndOfInput(t *testing.T) {
	for _, in := range []string{"", "echo last", "\x04", "echo x\n\x04"} {
		out, status := run(t, in, false)
		if status != 0 || !strings.Contains(out, "end of console input") {
			t.Errorf("input %q: status %d, output %q", in, status, out)
		}
	}
}

func TestHost(t *testing.T) {
	h := Host{Start: time.Now().Add(-time.Second)}
	total, free := h.Memory()
	if total == 0 || free > total {
		t.Errorf("Memory = %d, %d", total, free)
	}
	if ts := h.Threads(); len(ts) == 0 || ts[0].ID <= 0 || ts[0].State == "" {
		t.Errorf("Threads = %+v", ts)
	}
	if u := h.Uptime(); u < time.Second {
		t.Errorf("Uptime = %v", u)
	}
	if c := h.CPU(); c.Vendor == "" {
		t.Errorf("CPU = %+v", c)
	}
	if len(h.BootLog()) == 0 {
		t.Error("empty BootLog")
	}
}

// blockingReader hands out its data, then blocks instead of reporting the
// end of input, like a serial console.
type blockingReader struct {
	data []byte
	wait chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		<-r.wait
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestNoReadAheadAfterLineEnd(t *testing.T) {
	for _, in := range []string{"echo a\rhalt\r", "echo a\r\nhalt 4\r", "echo a\nhalt 4\n", "\x1bhalt\r"} {
		r := &blockingReader{data: []byte(in), wait: make(chan struct{})}
		var out bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- (&Shell{In: r, Out: &out, Sys: fake{}}).Run() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			close(r.wait)
			t.Errorf("input %q: shell waits for more input after the last line end", in)
			<-done
		}
	}
}
