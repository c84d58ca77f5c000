package qemu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Guest addresses on QEMU's user network (slirp): its DHCP server gives the
// guest UserNetAddr with UserNetGateway as router (which also reaches the
// host's loopback) and 10.0.2.3 as DNS server.
const (
	UserNetAddr    = "10.0.2.15/24"
	UserNetGateway = "10.0.2.2"
)

// UserNetwork returns the QEMU arguments for a virtio-net NIC on QEMU's user
// network with the given port forwards, each "tcp:HOSTPORT:GUESTPORT" or
// "udp:HOSTPORT:GUESTPORT" (the host side listens on 127.0.0.1), and the
// kernel options for the network service: xairrosx.ip=dhcp, so that the
// guest takes its address from QEMU's DHCP server when it boots.
func UserNetwork(machine string, forwards []string) ([]string, map[string]string, error) {
	args, err := userNetdev(machine, forwards)
	if err != nil {
		return nil, nil, err
	}
	return args, map[string]string{"ip": "dhcp"}, nil
}

// UserNetworkStatic is UserNetwork with the static address UserNetAddr and
// gateway UserNetGateway in the kernel options (xairrosx.ip, xairrosx.gw)
// instead of DHCP.
func UserNetworkStatic(machine string, forwards []string) ([]string, map[string]string, error) {
	args, err := userNetdev(machine, forwards)
	if err != nil {
		return nil, nil, err
	}
	return args, map[string]string{"ip": UserNetAddr, "gw": UserNetGateway}, nil
}

// userNetdev returns the QEMU arguments of UserNetwork.
func userNetdev(machine string, forwards []string) ([]string, error) {
	netdev := "user,id=net0"
	for _, f := range forwards {
		parts := strings.Split(f, ":")
		if len(parts) != 3 || (parts[0] != "tcp" && parts[0] != "udp") {
			return nil, fmt.Errorf("-hostfwd %q: want tcp:HOSTPORT:GUESTPORT or udp:HOSTPORT:GUESTPORT", f)
		}
		for _, p := range parts[1:] {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("-hostfwd %q: %q is not a port", f, p)
			}
		}
		netdev += fmt.Sprintf(",hostfwd=%s:127.0.0.1:%s-:%s", parts[0], parts[1], parts[2])
	}
	return append([]string{"-netdev", netdev}, virtioDevice(machine, "virtio-net", "netdev=net0")...), nil
}

// virtioDevice returns the QEMU arguments of a virtio device of kind
// (virtio-net, virtio-blk) with props: a PCI function, or on microvm a
// virtio-mmio device, version 2 (the only one the drivers speak).
func virtioDevice(machine, kind, props string) []string {
	if machine == "microvm" {
		return []string{"-device", kind + "-device," + props, "-global", "virtio-mmio.force-legacy=false"}
	}
	return []string{"-device", kind + "-pci," + props}
}

// DataDisk returns the QEMU arguments that attach file as a virtio-blk disk
// (raw format) for the file-system service to mount at /data.
func DataDisk(machine, file string) ([]string, error) {
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("-disk: %v", err)
	}
	if strings.ContainsAny(file, ",") {
		return nil, fmt.Errorf("-disk %q: the file name may not contain a comma", file)
	}
	return append([]string{"-drive", "file=" + file + ",if=none,id=data0,format=raw"}, virtioDevice(machine, "virtio-blk", "drive=data0")...), nil
}
