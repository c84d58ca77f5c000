package fsys

import (
	"fmt"
	"os"
	"strings"

	"github.com/xairrosx/xairrosx/fs/procfs"
	"github.com/xairrosx/xairrosx/kernel"
)

// The /proc and /sys files the Go runtime, its standard library and common
// programs (CometBFT among them) read, generated from the kernel's state.

func newProc() *procfs.FS {
	p := procfs.New()
	p.File("self/cgroup", procfs.Text("0::/\n"))
	p.File("self/mountinfo", func() []byte { return FS.Mountinfo() })
	p.File("sys/net/core/somaxconn", procfs.Text("4096\n"))
	p.File("sys/kernel/ostype", procfs.Text("Linux\n"))
	p.File("sys/kernel/osrelease", procfs.Text("6.1.0-xairrosx\n"))
	p.File("meminfo", meminfo)
	p.File("cpuinfo", cpuinfo)
	p.File("uptime", func() []byte {
		s := kernel.Uptime().Seconds()
		return []byte(fmt.Sprintf("%.2f %.2f\n", s, s))
	})
	p.File("self/stat", func() []byte {
		// pid (comm) state ppid ...: enough for programs that read the start time.
		return []byte(fmt.Sprintf("1 (%s) R 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 %d 0 0 0 0\n", progName(), len(kernel.Threads())))
	})
	p.Symlink("self/exe", "/"+progName())
	p.Symlink("self/cwd", "/")
	return p
}

func newSys() *procfs.FS {
	s := procfs.NewSys()
	s.File("devices/system/cpu/online", procfs.Text("0\n"))
	s.File("devices/system/cpu/possible", procfs.Text("0\n"))
	s.Dir("fs/cgroup")
	return s
}

func progName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return strings.TrimPrefix(os.Args[0], "/")
	}
	return "init"
}

func meminfo() []byte {
	m := kernel.Memory()
	kb := func(b uint64) uint64 { return b >> 10 }
	return []byte(fmt.Sprintf("MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\nAnonPages:      %8d kB\nHugePages_Total:%8d\nHugepagesize:       2048 kB\n",
		kb(m.TotalBytes), kb(m.FreeBytes), kb(m.FreeBytes), kb(m.UserBytes), m.HugePages))
}

func cpuinfo() []byte {
	c := kernel.CPU()
	return []byte(fmt.Sprintf("processor\t: 0\nvendor_id\t: %s\nmodel name\t: %s\ncpu MHz\t\t: %.3f\nflags\t\t: %s\n\n",
		c.Vendor, c.Brand, float64(c.TSCHz)/1e6, strings.Join(c.Features, " ")))
}
