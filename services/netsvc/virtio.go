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
	"github.com/xairrosx/xairrosx/drivers/virtio"
	vnet "github.com/xairrosx/xairrosx/drivers/virtio/net"
	"github.com/xairrosx/xairrosx/kernel"
	"github.com/xairrosx/xairrosx/net/link"
	"github.com/xairrosx/xairrosx/net/stack"
)

// QEMU's user network (slirp): the address its DHCP server gives the
// guest and the gateway, which also forwards to the host's loopback.
const (
	QEMUUserAddr    = "10.0.2.15/24"
	QEMUUserGateway = "10.0.2.2"
)

var (
	attachMu   sync.Mutex
	attached   bool // a virtio-net NIC is in the stack
	autoAttach sync.Once
)

// attachFromOptions configures the virtio-net device as the kernel command
// line says (xairrosx run -net user sets xairrosx.ip=dhcp):
//
//	xairrosx.ip=ADDR/PREFIX [xairrosx.gw=GW]  static address
//	xairrosx.ip=dhcp                          DHCP; an error if there is no device
//	xairrosx.ip=none                          leave the device alone
//	(no xairrosx.ip)                          DHCP if there is a virtio-net device
func attachFromOptions() {
	ip, ok := kernel.Option("ip")
	switch {
	case ok && ip == "none":
	case ok && ip != "dhcp":
		gw, _ := kernel.Option("gw")
		if err := AttachVirtioNet(ip, gw); err != nil {
			fmt.Fprintln(os.Stderr, "xairrosx: network:", err)
		}
	default:
		_, err := AttachVirtioNetDHCP(DHCPTimeout)
		if errors.Is(err, ErrNoDevice) && !ok {
			return // no NIC, and none was asked for
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// ErrNoDevice means no virtio-net device was found on the PCI bus.
var ErrNoDevice = errors.New("netsvc: no virtio-net device")

// ErrAttached means the virtio-net device is in the stack already.
var ErrAttached = errors.New("netsvc: the virtio-net device is attached already")

// AttachVirtioNet opens the first virtio-net PCI device and adds it to the
// stack as a NIC with the static IPv4 address prefix (such as
// QEMUUserAddr) and a default route through gateway (none if empty). It
// does nothing if the device is attached already (by the boot options,
// say). It works only on XairrosX; socket calls may run meanwhile.
func AttachVirtioNet(prefix, gateway string) error {
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
	if _, _, err := attachVirtioNet(nic); err != nil && err != ErrAttached {
		return err
	}
	return nil
}

// attachVirtioNet opens the first virtio-net PCI device and adds it to the
// stack as described by nic (whose Link it sets). It returns the NIC's ID
// and the device, or ErrAttached if the device is in the stack already.
func attachVirtioNet(nic stack.NIC) (tcpip.NICID, *vnet.NIC, error) {
	if !kernel.Running() {
		return 0, nil, errors.New("netsvc: attaching a virtio-net device needs XairrosX")
	}
	setup.Do(start)
	attachMu.Lock()
	defer attachMu.Unlock()
	if attached {
		return 0, nil, ErrAttached
	}
	if Stack == nil {
		return 0, nil, errors.New("netsvc: no network stack")
	}
	ts, err := virtio.FindAny(virtio.TypeNet)
	if err != nil {
		return 0, nil, fmt.Errorf("netsvc: %w", err)
	}
	for _, t := range ts {
		// Frames may arrive before the endpoint exists: drop those.
		var ep atomic.Pointer[link.Endpoint]
		// The frames the driver drains at once go to the stack as one
		// batch, so that GRO merges the TCP segments among them.
		dev, err := vnet.Open(t, dma.Kernel{}, vnet.Options{
			Receive: func(frame []byte) {
				if e := ep.Load(); e != nil {
					e.Enqueue(frame)
				}
			},
			BatchDone: func() {
				if e := ep.Load(); e != nil {
					e.Flush()
				}
			},
		})
		if err != nil {
			return 0, nil, fmt.Errorf("netsvc: %w", err)
		}
		e := link.New(dev)
		nic.Link = e
		id, err := Stack.AddNIC(nic)
		if err != nil {
			e.Close()
			dev.Close()
			return 0, nil, err
		}
		ep.Store(e)
		attached = true
		return id, dev, nil
	}
	return 0, nil, ErrNoDevice
}
