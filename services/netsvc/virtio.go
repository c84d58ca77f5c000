package netsvc

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/pci"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	vnet "github.com/xairrosx/xairrosx/drivers/virtio/net"
	"github.com/xairrosx/xairrosx/kernel"
	"github.com/xairrosx/xairrosx/net/link"
	"github.com/xairrosx/xairrosx/net/stack"
)

// QEMU's user network (slirp): the guest's address and the gateway, which
// also forwards to the host's loopback.
const (
	QEMUUserAddr    = "10.0.2.15/24"
	QEMUUserGateway = "10.0.2.2"
)

var (
	attachMu   sync.Mutex
	attached   bool // a virtio-net NIC is in the stack
	autoAttach sync.Once
)

// attachFromOptions attaches the virtio-net device when the kernel command
// line asks for it: xairrosx.ip=ADDR/PREFIX and optionally xairrosx.gw=GW
// (xairrosx run -net user sets both for QEMU's user network).
func attachFromOptions() {
	ip, ok := kernel.Option("ip")
	if !ok {
		return
	}
	gw, _ := kernel.Option("gw")
	if err := AttachVirtioNet(ip, gw); err != nil {
		fmt.Fprintln(os.Stderr, "xairrosx: network:", err)
	}
}

// ErrNoDevice means no virtio-net device was found on the PCI bus.
var ErrNoDevice = errors.New("netsvc: no virtio-net device")

// AttachVirtioNet opens the first virtio-net PCI device and adds it to the
// stack as a NIC with the IPv4 address prefix (such as QEMUUserAddr) and a
// default route through gateway (none if empty). It works only on
// XairrosX; socket calls may run meanwhile.
func AttachVirtioNet(prefix, gateway string) error {
	if !kernel.Running() {
		return errors.New("netsvc: AttachVirtioNet needs XairrosX")
	}
	setup.Do(start)
	attachMu.Lock()
	defer attachMu.Unlock()
	if attached {
		return nil // the boot options attached it already
	}
	p, err := netip.ParsePrefix(prefix)
	if err != nil || !p.Addr().Is4() {
		return fmt.Errorf("netsvc: address %q: want an IPv4 address/prefix", prefix)
	}
	nic := stack.NIC{Addr: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(p.Addr().As4()), PrefixLen: p.Bits()}}
	if gateway != "" {
		g, err := netip.ParseAddr(gateway)
		if err != nil || !g.Is4() {
			return fmt.Errorf("netsvc: gateway %q: want an IPv4 address", gateway)
		}
		nic.Gateway = tcpip.AddrFrom4(g.As4())
	}
	if Stack == nil {
		return errors.New("netsvc: no network stack")
	}
	fns, err := pci.System()
	if err != nil {
		return fmt.Errorf("netsvc: %w", err)
	}
	for _, f := range fns {
		if virtio.DeviceType(f) != virtio.TypeNet {
			continue
		}
		t, err := virtio.NewPCI(f)
		if err != nil {
			return fmt.Errorf("netsvc: %w", err)
		}
		// Frames may arrive before the endpoint exists: drop those.
		var ep atomic.Pointer[link.Endpoint]
		dev, err := vnet.Open(t, dma.Kernel{}, vnet.Options{Receive: func(frame []byte) {
			if e := ep.Load(); e != nil {
				e.Deliver(frame)
			}
		}})
		if err != nil {
			return fmt.Errorf("netsvc: %w", err)
		}
		e := link.New(dev)
		nic.Link = e
		if _, err := Stack.AddNIC(nic); err != nil {
			e.Close()
			dev.Close()
			return err
		}
		ep.Store(e)
		attached = true
		return nil
	}
	return ErrNoDevice
}
