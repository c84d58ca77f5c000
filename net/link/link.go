// Package link connects a network device that carries Ethernet frames
// (drivers/virtio/net.NIC, or any Device) to gVisor's stack: Endpoint is a
// stack.LinkEndpoint that adds and strips Ethernet headers (ARP resolves
// neighbours), sends outgoing frames through Device.Transmit from a
// goroutine of its own, and takes received frames through Deliver.
//
// Plug it in with New, then net/stack's Stack.AddNIC; hand every frame the
// device receives to Endpoint.Deliver (the virtio-net driver's
// Options.Receive callback).
package link

import (
	"net"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Device is a network device that sends Ethernet frames (destination,
// source, type, payload; no FCS).
type Device interface {
	// MAC returns the device's Ethernet address.
	MAC() net.HardwareAddr
	// MTU returns the largest payload of a frame (1500 for Ethernet).
	MTU() int
	// Transmit sends one frame; the frame may be reused once it returns.
	Transmit(frame []byte) error
}

// queueLen is the number of outgoing packets the endpoint holds while the
// device is busy; more are dropped, as a full NIC queue drops them.
const queueLen = 256

// Endpoint is a stack.LinkEndpoint over a Device.
type Endpoint struct {
	*ethernet.Endpoint
	ch   *channel.Endpoint
	dev  Device
	wake chan struct{}
	done chan struct{}
	once sync.Once

	rx, tx, rxDropped, txErrors atomic.Uint64
}

// New returns an endpoint over dev and starts its transmit goroutine.
func New(dev Device) *Endpoint {
	ch := channel.New(queueLen, uint32(dev.MTU()+header.EthernetMinimumSize), tcpip.LinkAddress(dev.MAC()))
	e := &Endpoint{
		Endpoint: ethernet.New(ch),
		ch:       ch,
		dev:      dev,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	ch.AddNotify(e)
	go e.transmit()
	return e
}

// WriteNotify implements channel.Notification: an outgoing packet is queued.
func (e *Endpoint) WriteNotify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// transmit sends queued packets through the device until Close.
func (e *Endpoint) transmit() {
	for {
		select {
		case <-e.wake:
		case <-e.done:
			return
		}
		for {
			pkt := e.ch.Read()
			if pkt == nil {
				break
			}
			v := pkt.ToView()
			if err := e.dev.Transmit(v.AsSlice()); err != nil {
				e.txErrors.Add(1)
			} else {
				e.tx.Add(1)
			}
			v.Release()
			pkt.DecRef()
		}
	}
}

// Deliver hands a frame received by the device to the stack. Frames shorter
// than an Ethernet header are counted and dropped. frame is copied.
func (e *Endpoint) Deliver(frame []byte) {
	if len(frame) < header.EthernetMinimumSize {
		e.rxDropped.Add(1)
		return
	}
	e.rx.Add(1)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	e.ch.InjectInbound(0, pkt)
	pkt.DecRef()
}

// Close implements stack.LinkEndpoint.Close: it stops the transmit
// goroutine. The device itself stays open.
func (e *Endpoint) Close() {
	e.once.Do(func() { close(e.done) })
	e.Endpoint.Close()
}

// Stats returns the frames received and sent, received frames dropped as
// malformed, and frames the device refused.
func (e *Endpoint) Stats() (rx, tx, rxDropped, txErrors uint64) {
	return e.rx.Load(), e.tx.Load(), e.rxDropped.Load(), e.txErrors.Load()
}
