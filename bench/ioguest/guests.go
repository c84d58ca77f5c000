package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/xairrosx/xairrosx/bench/linuxguest/benchtab"
	"github.com/xairrosx/xairrosx/bench/linuxguest/initramfs"
	"github.com/xairrosx/xairrosx/internal/cmdline"
	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// linuxCmd starts the Linux guest's command line; the XairrosX options and
// the workload's arguments follow, the same words as on XairrosX.
// no_timer_check skips the boot-time check that the IO-APIC timer ticks,
// which a busy TCG host fails now and then ("IO-APIC + timer doesn't
// work!", a panic), most often with two guests booting at once.
const linuxCmd = "console=ttyS0 quiet panic=-1 no_timer_check"

// guestPkg is the workload, linuxInitPkg the Linux guest's /init.
const (
	guestPkg     = "./bench/ioguest/guest"
	linuxInitPkg = "./bench/ioguest/linuxinit"
)

// linuxModules are the modules of Debian's cloud kernel that the Linux
// guest loads (their dependencies come along); ext4, which serves ext2,
// is built in.
var linuxModules = []string{"virtio_pci", "virtio_net", "virtio_blk"}

// side is one guest OS: its boot files.
type side struct {
	name   string
	kernel string // -kernel
	initrd string // -initrd; "" for XairrosX
}

func (s *side) linux() bool { return s.initrd != "" }

// buildSides builds the workload as a XairrosX image and as the Linux
// guest's initramfs (linuxinit as /init, the workload as /bin/guest, the
// modules from modDir) in work.
func buildSides(root, work, vmlinuz, modDir string) (x, l *side, err error) {
	img := filepath.Join(work, "guest.img")
	if _, err := image.Build(image.Options{Pkg: guestPkg, Dir: root, Out: img}); err != nil {
		return nil, nil, fmt.Errorf("XairrosX image of %s: %v", guestPkg, err)
	}
	progs := map[string][]byte{}
	for _, pkg := range []string{guestPkg, linuxInitPkg} {
		bin := filepath.Join(work, filepath.Base(pkg)+".linux")
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("building %s for Linux: %v\n%s", pkg, err, out)
		}
		if progs[pkg], err = os.ReadFile(bin); err != nil {
			return nil, nil, err
		}
	}
	mods, err := initramfs.Modules(&initramfs.Tree{Dir: modDir}, linuxModules)
	if err != nil {
		return nil, nil, err
	}
	entries := append(initramfs.Init(progs[linuxInitPkg]),
		initramfs.Entry{Name: "bin", Mode: initramfs.ModeDir | 0o755},
		initramfs.Entry{Name: "bin/guest", Mode: initramfs.ModeFile | 0o755, Data: progs[guestPkg]},
		initramfs.Entry{Name: "data", Mode: initramfs.ModeDir | 0o755})
	var cpio bytes.Buffer
	if err := initramfs.Write(&cpio, append(entries, mods...)); err != nil {
		return nil, nil, err
	}
	rd := filepath.Join(work, "guest.cpio")
	if err := os.WriteFile(rd, cpio.Bytes(), 0o644); err != nil {
		return nil, nil, err
	}
	return &side{name: "XairrosX", kernel: img}, &side{name: "Linux", kernel: vmlinuz, initrd: rd}, nil
}

// guest is one running QEMU.
type guest struct {
	side *side
	out  qemu.Output
	done chan struct{}
	res  qemu.Result
	err  error
	stop context.CancelFunc
}

// start boots s with the kernel options opts (without their "xairrosx."
// prefix), the workload arguments args and extra QEMU arguments.
func start(s *side, opts map[string]string, args, extra []string, timeout time.Duration) (*guest, error) {
	o := map[string]string{"argv0": "guest"}
	for k, v := range opts {
		o[k] = v
	}
	line, err := cmdline.Build(o, nil, args)
	if err != nil {
		return nil, err
	}
	c := qemu.Config{Image: s.kernel, Machine: *machine, Mem: *memMiB << 20, SMP: *smp, Cmdline: line, Timeout: timeout, Extra: extra}
	if s.linux() {
		c.Cmdline = linuxCmd + " " + line
		c.Extra = append([]string{"-initrd", s.initrd}, extra...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &guest{side: s, done: make(chan struct{}), stop: cancel}
	c.Stdout = &g.out
	if *verbose {
		fmt.Fprintf(os.Stderr, "ioguest: %s: %s\n", s.name, c.Cmdline)
	}
	go func() {
		g.res, g.err = qemu.Run(ctx, c)
		if s.linux() && errors.Is(g.err, qemu.ErrNoExit) {
			g.err = nil // linuxinit powers the machine off
		}
		if g.err == nil && !s.linux() && g.res.Status != 0 {
			g.err = fmt.Errorf("exit status %d", g.res.Status)
		}
		close(g.done)
	}()
	return g, nil
}

// output returns the console output so far, with "\r\n" as "\n".
func (g *guest) output() string { return strings.ReplaceAll(g.out.String(), "\r\n", "\n") }

// waitFor waits until the console shows s, the guest ends or d passes.
func (g *guest) waitFor(s string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !strings.Contains(g.out.String(), s) {
		select {
		case <-g.done:
			if strings.Contains(g.out.String(), s) {
				return nil
			}
			return fmt.Errorf("%s guest ended (%v) before %q: %s", g.side.name, g.err, s, tail(g.output()))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s guest: no %q after %v: %s", g.side.name, s, d, tail(g.output()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// wait waits for the guest to end and returns its results: the BENCH
// values, and an error if it failed or did not finish its work.
func (g *guest) wait() (map[string]float64, map[string]string, error) {
	<-g.done
	out := g.output()
	if *verbose {
		fmt.Fprintf(os.Stderr, "ioguest: %s console:\n%s\n", g.side.name, out)
	}
	vals, errs := benchtab.Parse(out)
	if g.err != nil {
		return vals, errs, fmt.Errorf("%s guest: %v: %s", g.side.name, g.err, tail(out))
	}
	if !strings.Contains(out, "BENCH done") {
		return vals, errs, fmt.Errorf("%s guest did not finish: %s", g.side.name, tail(out))
	}
	return vals, errs, nil
}

// kill ends the guest at once.
func (g *guest) kill() {
	g.stop()
	<-g.done
}

// tail returns the end of a console output, or its kernel panic line.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "Kernel panic"); i >= 0 {
		s, _, _ = strings.Cut(s[i:], "\n")
	}
	if len(s) > 300 {
		s = "..." + s[len(s)-300:]
	}
	return fmt.Sprintf("%q", s)
}
