package main

// The kernel area's subcommands: build turns a Go main package into a
// bootable XairrosX image, run builds if needed and boots it under QEMU.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/xairrosx/xairrosx/internal/cmdline"
	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
	"golang.org/x/sys/unix"
)

func init() {
	register("build", "kernel: build a Go main package into a bootable image", kernelBuild)
	register("run", "kernel: boot a Go main package or an image under QEMU", kernelRun)
}

// Exit statuses of build and run for failures of the tool itself.
const (
	exitUsage = 2   // bad flags or arguments
	exitTool  = 125 // the guest could not be built or booted
)

func kernelBuild(args []string) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	out := fs.String("o", "", "write the image to `IMAGE` (default: NAME.img in the current directory)")
	files := fs.String("files", "", "pack `DIR` into the image as its read-only root file system")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: xairrosx build [-o IMAGE] [-files DIR] PKG\n\nBuilds the Go main package PKG (import path or directory) into a bootable XairrosX image.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "want exactly one package, got %d arguments", fs.NArg())
	}
	pkg := fs.Arg(0)
	dest := *out
	if dest == "" {
		// NAME.img once the package's name is known.
		dest = fmt.Sprintf(".xairrosx-build-%d.img", os.Getpid())
	}
	p, err := image.Build(image.Options{Pkg: pkg, Out: dest, Files: *files})
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx build: %v\n", err)
		return exitTool
	}
	if *out == "" {
		if err := os.Rename(dest, p.Name+".img"); err != nil {
			os.Remove(dest)
			fmt.Fprintf(os.Stderr, "xairrosx build: %v\n", err)
			return exitTool
		}
	}
	return 0
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func kernelRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 0, "kill the guest after `D` (e.g. 30s) and exit 124; 0 means no limit")
	memFlag := fs.String("mem", "256M", "guest memory `SIZE` (K, M or G suffix)")
	smp := fs.Int("smp", 1, "number of virtual CPUs")
	gdb := fs.Bool("gdb", false, "start the guest stopped and wait for a debugger on tcp::1234")
	machine := fs.String("machine", qemu.DefaultMachine, "QEMU machine `TYPE`: "+strings.Join(qemu.Machines, ", "))
	var env multiFlag
	fs.Var(&env, "env", "pass `NAME=VALUE` to the guest's environment (repeatable); nothing else is passed")
	files := fs.String("files", "", "pack `DIR` into the image as its read-only root file system (when building PKG)")
	netMode := fs.String("net", "", "`user`: a virtio-net NIC on QEMU's user network, configured by DHCP (guest 10.0.2.15, host reachable as 10.0.2.2); user-static: the same addresses set statically")
	disk := fs.String("disk", "", "attach `FILE` (an ext2 image, e.g. from mkfs.ext2) as a virtio-blk disk mounted at /data")
	var hostfwd multiFlag
	fs.Var(&hostfwd, "hostfwd", "with -net user, forward `tcp:HOSTPORT:GUESTPORT` (or udp:...) from 127.0.0.1 on the host to the guest (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: xairrosx run [flags] PKG|IMAGE [-- ARGS...]

Boots a Go main package (built first) or an image under QEMU. The guest's
console (its stdin, stdout and stderr, one serial line) is this terminal; ARGS
become the guest's os.Args[1:]; the exit status is the guest's.`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError(fs, "no package or image given")
	}
	target, guestArgs := rest[0], rest[1:]
	if len(guestArgs) > 0 {
		if guestArgs[0] != "--" {
			return usageError(fs, "unexpected %q after %s: flags go before the package, guest arguments after --", guestArgs[0], target)
		}
		guestArgs = guestArgs[1:]
	}
	mem, err := image.ParseSize(*memFlag)
	if err == nil && mem%(1<<20) != 0 {
		err = fmt.Errorf("-mem %s is not a whole number of MiB", *memFlag)
	}
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if *smp < 1 || *smp > 255 {
		return usageError(fs, "-smp %d: want 1 to 255", *smp)
	}
	if *timeout < 0 {
		return usageError(fs, "-timeout %v is negative", *timeout)
	}
	for _, e := range env {
		if err := cmdline.CheckEnv(e); err != nil {
			return usageError(fs, "-env: %v", err)
		}
	}
	known := false
	for _, m := range qemu.Machines {
		known = known || m == *machine
	}
	if !known {
		return usageError(fs, "-machine %q: want one of %s", *machine, strings.Join(qemu.Machines, ", "))
	}

	img, argv0, cleanup, err := imageFor(target, *files, *gdb)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx run: %v\n", err)
		return exitTool
	}
	defer cleanup()
	b, err := os.ReadFile(img)
	if err == nil {
		err = image.CheckFits(b, mem)
	}
	if err == nil {
		var info image.Info
		if info, err = image.Inspect(b); err == nil && !info.PVH {
			err = errors.New("it has no PVH entry note; build it with xairrosx build")
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx run: %s: %v\n", target, err)
		return exitTool
	}
	options := map[string]string{"argv0": argv0}
	var extra []string
	switch *netMode {
	case "":
		if len(hostfwd) > 0 {
			return usageError(fs, "-hostfwd needs -net user")
		}
	case "user", "user-static":
		network := qemu.UserNetwork
		if *netMode == "user-static" {
			network = qemu.UserNetworkStatic
		}
		args, opts, err := network(*machine, hostfwd)
		if err != nil {
			return usageError(fs, "%v", err)
		}
		extra = args
		for k, v := range opts {
			options[k] = v
		}
	default:
		return usageError(fs, "-net %q: the networks are user and user-static", *netMode)
	}
	if *disk != "" {
		args, err := qemu.DataDisk(*machine, *disk)
		if err != nil {
			return usageError(fs, "%v", err)
		}
		extra = append(extra, args...)
		options["data"] = "ext2"
	}
	line, err := cmdline.Build(options, env, guestArgs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx run: %v\n", err)
		return exitUsage
	}
	if *gdb {
		fmt.Fprintf(os.Stderr, "xairrosx run: QEMU is waiting for a debugger on tcp::1234; attach with:\n\tgdb %s -ex 'target remote :1234'\n", img)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	interactive := isTerminal(os.Stdin)
	if interactive {
		// QEMU puts the terminal into raw mode; put it back whatever
		// happens to QEMU.
		if saved, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS); err == nil {
			defer unix.IoctlSetTermios(int(os.Stdin.Fd()), unix.TCSETS, saved)
		}
	}
	res, err := qemu.Run(ctx, qemu.Config{
		Image: img, Machine: *machine, Mem: mem, SMP: *smp, Cmdline: line,
		Timeout: *timeout, GDB: *gdb, Extra: extra,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Interactive: interactive,
	})
	switch {
	case ctx.Err() != nil || errors.Is(err, qemu.ErrInterrupted):
		fmt.Fprintln(os.Stderr, "xairrosx run: interrupted; QEMU stopped")
		return 130
	case errors.Is(err, qemu.ErrTimeout):
		fmt.Fprintf(os.Stderr, "xairrosx run: guest did not exit within %v; QEMU killed\n", *timeout)
		return qemu.StatusTimeout
	case err != nil:
		fmt.Fprintf(os.Stderr, "xairrosx run: %v\n", err)
		return qemu.StatusNoExit
	case res.Fault:
		fmt.Fprintln(os.Stderr, "xairrosx run: kernel fault (registers and stack above)")
	}
	return res.Status
}

// imageFor returns the image to boot for target (an image file, or a
// package that it builds into a temporary image), the guest's os.Args[0]
// and a function that removes what it built. With keep the image of a
// package stays on disk (for a debugger).
func imageFor(target, files string, keep bool) (img, argv0 string, cleanup func(), err error) {
	nop := func() {}
	if isELF(target) {
		return target, filepath.Base(target), nop, nil
	}
	dir, err := os.MkdirTemp("", "xairrosx-run-")
	if err != nil {
		return "", "", nop, err
	}
	img = filepath.Join(dir, "image.img")
	pkg, err := image.Build(image.Options{Pkg: target, Out: img, Files: files})
	if err != nil {
		os.RemoveAll(dir)
		return "", "", nop, err
	}
	if keep {
		named := filepath.Join(dir, pkg.Name+".img")
		if err := os.Rename(img, named); err != nil {
			return "", "", nop, err
		}
		return named, pkg.Name, nop, nil
	}
	return img, pkg.Name, func() { os.RemoveAll(dir) }, nil
}

// isELF reports whether path is a regular file starting with the ELF magic.
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == "\x7fELF"
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// parseFlags parses args; ok is false when the caller should return code.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return exitUsage, false
	}
	return 0, true
}

// usageError prints a usage error for fs and returns exitUsage.
func usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "xairrosx %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fmt.Fprintf(os.Stderr, "run 'xairrosx %s -h' for usage\n", fs.Name())
	return exitUsage
}
