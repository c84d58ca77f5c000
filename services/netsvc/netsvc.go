// Package netsvc is the network service of XairrosX: a goroutine service
// that serves the socket calls the kernel forwards (kernel.ServeNet) with
// gVisor's TCP/IP stack (package net/stack) through the socket layer of
// package net/sockets. The stack has the loopback interface (127.0.0.1 and
// ::1) and, when the machine has one, a virtio-net NIC configured by DHCP
// (package net/dhcp) or with a static address from the kernel command line
// (see attachFromOptions).
//
// It starts from its init function when the program runs on XairrosX and
// does nothing on a Linux host, so a program may import it and still run
// natively.
package netsvc

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/xairrosx/xairrosx/kernel"
	"github.com/xairrosx/xairrosx/net/sockets"
	"github.com/xairrosx/xairrosx/net/stack"
)

// Stack is the network stack the service serves (nil on a Linux host, and
// until the first forwarded call).
var Stack *stack.Stack

// Trace, if set (before the first socket call), is called after each
// request with its number, arguments and result.
var Trace func(nr uint64, args [6]uint64, result int64)

var (
	setup sync.Once
	table *sockets.Table
)

func init() {
	if !kernel.Running() {
		return
	}
	kernel.ServeNet(func(r *kernel.Request) (int64, int64) {
		setup.Do(start)
		autoAttach.Do(attachFromOptions)
		if table == nil {
			return -int64(syscall.EPROTONOSUPPORT), 0
		}
		nr := r.Nr
		if nr == kernel.NrSocketCreate {
			nr = sockets.NrSocketCreate
		}
		res := table.Serve(nr, r.Args)
		if Trace != nil {
			Trace(nr, r.Args, res)
		}
		return res, 0
	})
	// An explicit xairrosx.ip configures the NIC before main runs, so that
	// the address and /etc/resolv.conf are there before the program looks.
	// Without one, the first socket call does it (programs that drive a
	// virtio-net device themselves and make no socket calls keep it).
	if _, ok := kernel.Option("ip"); ok {
		setup.Do(start)
		autoAttach.Do(attachFromOptions)
	}
}

// start builds the stack on the first forwarded call.
func start() {
	st, err := stack.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xairrosx: network stack:", err)
		return
	}
	Stack = st
	table = sockets.New(st.Stack, guest{})
}

// guest is the socket layer's view of the kernel.
type guest struct{}

// SetReady implements sockets.Kernel.SetReady.
func (guest) SetReady(h int32, events uint32) { kernel.SetReady(h, events) }

// SetSockAddr implements sockets.Kernel.SetSockAddr.
func (guest) SetSockAddr(h int32, peer bool, sa []byte) { kernel.SetSockAddr(h, peer, sa) }

// User implements sockets.Kernel.User. The kernel validated every buffer a
// forwarded socket call carries (msghdr contents and iovecs included), so
// only null and absurd ranges are refused here.
func (guest) User(addr, n uint64) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if addr == 0 || n > 1<<30 || addr+n < addr {
		return nil, false
	}
	return kernel.UserBytes(addr, n), true
}
