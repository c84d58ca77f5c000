package netsvc

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/xairrosx/xairrosx/net/dhcp"
	"github.com/xairrosx/xairrosx/net/stack"
)

// DHCPTimeout bounds the wait for a first lease; the client keeps trying
// in the background after it.
const DHCPTimeout = 10 * time.Second

// ResolvConf is where the DNS servers of a lease are written for Go's
// resolver.
const ResolvConf = "/etc/resolv.conf"

var (
	leaseMu  sync.Mutex
	lease    dhcp.Lease // the lease in force (zero if none)
	resolvOK bool       // ResolvConf was written for lease
)

// Lease returns the DHCP lease in force, or the zero Lease if there is
// none (no DHCP, or not yet, or lost).
func Lease() dhcp.Lease {
	leaseMu.Lock()
	defer leaseMu.Unlock()
	return lease
}

// AttachVirtioNetDHCP opens the first virtio-net device, adds it to the
// stack without an address and configures it by DHCP: it waits up to
// bound for a lease, applies it (address, default route, DNS servers in
// /etc/resolv.conf) and keeps it renewed from a goroutine. When no server
// answers within bound it returns an error; the NIC stays up without an
// address and the client keeps trying in the background. ErrAttached means
// the device is in the stack already (with a static address, say).
func AttachVirtioNetDHCP(bound time.Duration) (dhcp.Lease, error) {
	id, dev, err := attachVirtioNet(stack.NIC{})
	if err != nil {
		return dhcp.Lease{}, err
	}
	conn, err := dhcp.NewStackConn(Stack.Stack, id)
	if err != nil {
		return dhcp.Lease{}, fmt.Errorf("netsvc: %w", err)
	}
	c := &dhcp.Client{MAC: dev.MAC(), Conn: conn}
	apply := func(l dhcp.Lease) { applyLease(id, l) }
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	l, start, err := c.Acquire(ctx)
	cancel()
	if err != nil {
		go func() {
			if l, start, err := c.Acquire(context.Background()); err == nil {
				apply(l)
				c.Run(context.Background(), l, start, apply)
			}
		}()
		return dhcp.Lease{}, fmt.Errorf("netsvc: DHCP: no lease within %v (%v); the NIC %v is up without an address, still trying", bound, err, dev.MAC())
	}
	apply(l)
	go c.Run(context.Background(), l, start, apply)
	return l, nil
}

// applyLease configures NIC id with lease l (no address if l is zero) and
// reports the change on the console.
func applyLease(id tcpip.NICID, l dhcp.Lease) {
	leaseMu.Lock()
	defer leaseMu.Unlock()
	addr, gw := l.Stack()
	if err := Stack.SetAddress(id, addr, gw); err != nil {
		fmt.Fprintf(os.Stderr, "netsvc: DHCP %v: %v\n", l, err)
		return
	}
	old := lease
	lease = l
	switch {
	case !l.Addr.IsValid():
		fmt.Fprintf(os.Stderr, "netsvc: DHCP lease of %v lost; no address until a new lease\n", old.Addr)
		return
	case l.Addr == old.Addr && l.Gateway() == old.Gateway() && slices.Equal(l.DNS, old.DNS):
		return // a renewal that changes nothing
	}
	fmt.Fprintf(os.Stderr, "netsvc: DHCP %v\n", l)
	if len(l.DNS) > 0 && (!resolvOK || !slices.Equal(l.DNS, old.DNS)) {
		resolvOK = writeResolvConf(l)
	}
}

// writeResolvConf writes the lease's DNS servers to ResolvConf and reports
// whether it could.
func writeResolvConf(l dhcp.Lease) bool {
	var b strings.Builder
	b.WriteString("# From the DHCP lease of " + l.Addr.String() + " (XairrosX network service).\n")
	for _, d := range l.DNS {
		b.WriteString("nameserver " + d.String() + "\n")
	}
	err := os.MkdirAll("/etc", 0o755)
	if err == nil {
		err = os.WriteFile(ResolvConf, []byte(b.String()), 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "netsvc: DHCP: DNS servers not written to %s: %v (netsvc.Lease has them)\n", ResolvConf, err)
		return false
	}
	return true
}
