// Command linuxinit is /init of the Linux guest of the I/O benchmark. It
// gives the Linux guest what the XairrosX kernel does from its options
// before the workload runs, then runs the workload and powers off:
//
//   - mounts devtmpfs, proc and sysfs;
//   - loads the kernel modules listed in /etc/modules, in order, with
//     finit_module(2) (virtio-pci, virtio-net, virtio-blk of Debian's cloud
//     kernel; bench/linuxguest/initramfs packs them);
//   - xairrosx.ip=A/PREFIX [xairrosx.gw=G] on the kernel command line: the
//     first Ethernet interface gets the address (ioctl), comes up, and a
//     default route through G is added (netlink);
//   - xairrosx.data=ext2: mounts /dev/vda at /data as ext2;
//   - runs /bin/guest with its own arguments (the words after "--"), on
//     the console, and prints its exit status.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Guest is the workload binary.
const Guest = "/bin/guest"

func main() {
	err := setup()
	if err != nil {
		fmt.Println("linuxinit:", err)
	} else {
		cmd := exec.Command(Guest, os.Args[1:]...)
		cmd.Args[0] = "guest"
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err = cmd.Run()
		fmt.Println("linuxinit: guest ended:", errString(err))
	}
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Println("linuxinit: power off:", err)
	}
	select {} // init must not exit
}

func errString(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

func setup() error {
	for _, m := range []struct{ src, dir, typ string }{
		{"devtmpfs", "/dev", "devtmpfs"}, {"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"},
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.typ, 0, ""); err != nil {
			return fmt.Errorf("mount %s: %v", m.dir, err)
		}
	}
	if err := loadModules("/etc/modules"); err != nil {
		return err
	}
	opts, err := options()
	if err != nil {
		return err
	}
	if ip, ok := opts["ip"]; ok {
		if err := configureNet(ip, opts["gw"]); err != nil {
			return fmt.Errorf("network: %v", err)
		}
	}
	if typ, ok := opts["data"]; ok {
		dev := "/dev/vda"
		if err := waitFor(dev); err != nil {
			return err
		}
		os.MkdirAll("/data", 0o755)
		if err := unix.Mount(dev, "/data", typ, 0, ""); err != nil {
			return fmt.Errorf("mount %s at /data as %s: %v", dev, typ, err)
		}
	}
	return nil
}

// loadModules loads each module file named in list, one path a line.
func loadModules(list string) error {
	b, err := os.ReadFile(list)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, p := range strings.Fields(string(b)) {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("loading module %s: %v", p, err)
		}
	}
	return nil
}

// options returns the xairrosx.NAME=VALUE words of the kernel command line.
func options() (map[string]string, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, err
	}
	return parseOptions(string(b)), nil
}

// parseOptions returns the xairrosx.NAME=VALUE words of a command line
// (before "--"), by NAME; an option without "=" has the value "".
func parseOptions(line string) map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(line) {
		if w == "--" {
			break
		}
		if rest, ok := strings.CutPrefix(w, "xairrosx."); ok {
			k, v, _ := strings.Cut(rest, "=")
			m[k] = v
		}
	}
	return m
}

// waitFor waits up to 10 s for path to appear (devices show up as their
// drivers probe them).
func waitFor(path string) error {
	for i := 0; ; i++ {
		if _, err := os.Stat(path); err == nil {
			return nil
		} else if i == 1000 {
			return fmt.Errorf("%s did not appear: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ethernet returns the name of the first interface other than lo.
func ethernet() (string, error) {
	for i := 0; i < 1000; i++ {
		ents, _ := os.ReadDir("/sys/class/net")
		for _, e := range ents {
			if e.Name() != "lo" {
				return e.Name(), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", errors.New("no network interface appeared")
}

// configureNet gives the first Ethernet interface the address prefix (and
// brings lo up too), and adds a default route through gw if it is set.
func configureNet(prefix, gw string) error {
	p, err := netip.ParsePrefix(prefix)
	if err != nil || !p.Addr().Is4() {
		return fmt.Errorf("address %q: want an IPv4 address/prefix", prefix)
	}
	dev, err := ethernet()
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	mask := netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))))
	if err := ifreq(fd, dev, unix.SIOCSIFADDR, p.Addr()); err != nil {
		return err
	}
	if err := ifreq(fd, dev, unix.SIOCSIFNETMASK, mask); err != nil {
		return err
	}
	for _, name := range []string{"lo", dev} {
		if err := up(fd, name); err != nil {
			return err
		}
	}
	if gw == "" {
		return nil
	}
	g, err := netip.ParseAddr(gw)
	if err != nil || !g.Is4() {
		return fmt.Errorf("gateway %q: want an IPv4 address", gw)
	}
	ifi, err := unix.NewIfreq(dev)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifi); err != nil {
		return fmt.Errorf("index of %s: %v", dev, err)
	}
	return defaultRoute(g, ifi.Uint32())
}

func ifreq(fd int, dev string, req uint, a netip.Addr) error {
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return err
	}
	if err := ifr.SetInet4Addr(a.AsSlice()); err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
		return fmt.Errorf("%s: ioctl %#x %v: %v", dev, req, a, err)
	}
	return nil
}

func up(fd int, dev string) error {
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s: flags: %v", dev, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s: up: %v", dev, err)
	}
	return nil
}

// defaultRoute adds 0.0.0.0/0 via gw on interface index oif with one
// RTM_NEWROUTE netlink request, and checks the kernel's answer.
func defaultRoute(gw netip.Addr, oif uint32) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var msg bytes.Buffer
	rt := unix.RtMsg{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT,
		Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST}
	attr := func(typ uint16, data []byte) {
		binary.Write(&msg, binary.NativeEndian, unix.RtAttr{Len: uint16(unix.SizeofRtAttr + len(data)), Type: typ})
		msg.Write(data)
		for msg.Len()%4 != 0 {
			msg.WriteByte(0)
		}
	}
	binary.Write(&msg, binary.NativeEndian, rt)
	attr(unix.RTA_GATEWAY, gw.AsSlice())
	attr(unix.RTA_OIF, binary.NativeEndian.AppendUint32(nil, oif))
	hdr := unix.NlMsghdr{Len: uint32(unix.SizeofNlMsghdr + msg.Len()), Type: unix.RTM_NEWROUTE,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL, Seq: 1}
	var req bytes.Buffer
	binary.Write(&req, binary.NativeEndian, hdr)
	req.Write(msg.Bytes())
	if err := unix.Sendto(fd, req.Bytes(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("route request: %v", err)
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("route answer: %v", err)
	}
	if n < unix.SizeofNlMsghdr+4 || binary.NativeEndian.Uint16(buf[4:]) != unix.NLMSG_ERROR {
		return fmt.Errorf("route answer: unexpected message of %d bytes", n)
	}
	if e := int32(binary.NativeEndian.Uint32(buf[unix.SizeofNlMsghdr:])); e != 0 {
		return fmt.Errorf("default route via %v: %v", gw, unix.Errno(-e))
	}
	return nil
}
