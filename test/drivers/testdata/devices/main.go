// Command devices exercises the drivers on XairrosX under QEMU: it
// enumerates PCI, then, all at once, reads every virtio-blk disk (the host
// filled each with a known pattern) and writes a marker the host checks
// after QEMU exits, and sends an ARP request for QEMU's user-network
// gateway through virtio-net, waiting for the reply. It prints one line per check; the test reads them.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	gonet "net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/pci"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/blk"
	"github.com/xairrosx/xairrosx/drivers/virtio/net"
	"github.com/xairrosx/xairrosx/kernel"
)

// pattern is the byte the host wrote at offset i of the disk.
func pattern(i int64) byte { return byte(i/512*13 + i%251) }

// Marker offset and text: the host looks for them after QEMU exits.
const (
	markerOff = 8 * 512
	marker    = "written by the XairrosX virtio-blk driver"
)

func main() {
	if !kernel.Running() {
		fmt.Println("not on XairrosX")
		os.Exit(2)
	}
	fns, err := pci.System()
	if err != nil {
		fail("pci: %v", err)
	}
	var blkTs []virtio.Transport
	var netT virtio.Transport
	for _, f := range fns {
		fmt.Printf("pci %v irq %d\n", f, f.InterruptLine)
		typ := virtio.DeviceType(f)
		if typ != virtio.TypeBlock && typ != virtio.TypeNet {
			continue
		}
		for i, b := range f.BARs {
			if b.Size != 0 && !b.IO {
				fmt.Printf("bar %v %d at %#x size %#x 64-bit %v\n", f, i, b.Addr, b.Size, b.Is64)
			}
		}
		t, err := virtio.NewPCI(f)
		if err != nil {
			fail("%v", err)
		}
		if typ == virtio.TypeBlock {
			blkTs = append(blkTs, t)
		} else {
			netT = t
		}
	}
	if len(os.Args) == 2 && os.Args[1] == "-mmio" {
		// QEMU's microvm: virtio-mmio windows, interrupts through the
		// I/O APIC.
		blks, err := virtio.FindMMIO(virtio.TypeBlock)
		if err != nil {
			fail("%v", err)
		}
		nets, err := virtio.FindMMIO(virtio.TypeNet)
		if err != nil {
			fail("%v", err)
		}
		for _, t := range blks {
			fmt.Printf("virtio-mmio %v type block\n", t)
			blkTs = append(blkTs, t)
		}
		for _, t := range nets {
			fmt.Printf("virtio-mmio %v type net\n", t)
			netT = t
		}
	}
	// The disks and the NIC work at the same time, so that devices sharing
	// an interrupt line complete requests concurrently.
	var wg sync.WaitGroup
	out := make([]string, len(blkTs))
	for i, t := range blkTs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = testBlock(i, t)
		}()
	}
	if netT != nil {
		testNet(netT)
	}
	wg.Wait()
	for _, o := range out {
		fmt.Print(o)
	}
	fmt.Println("done")
}

func fail(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

// testBlock reads disk i whole, checks the pattern, writes and flushes the
// marker and reads it back; it returns its report.
func testBlock(i int, t virtio.Transport) string {
	var b strings.Builder
	d, err := blk.Open(t, dma.Kernel{})
	if err != nil {
		fail("%v", err)
	}
	fmt.Fprintf(&b, "blk%d capacity %d sectors\n", i, d.Sectors())
	buf := make([]byte, d.Size())
	n, err := d.ReadAt(buf, 0)
	if err != nil || n != len(buf) {
		fail("blk%d read: %d bytes, %v", i, n, err)
	}
	bad := 0
	for i := range buf {
		if buf[i] != pattern(int64(i)) {
			bad++
		}
	}
	fmt.Fprintf(&b, "blk%d read %d bytes, %d differ from the pattern\n", i, n, bad)
	m := bytes.Repeat([]byte(marker+"\n"), 1024/len(marker)+1)[:1024]
	if _, err := d.WriteAt(m, markerOff); err != nil {
		fail("blk%d write: %v", i, err)
	}
	if err := d.Flush(); err != nil {
		fail("blk%d flush: %v", i, err)
	}
	back := make([]byte, len(m))
	if _, err := d.ReadAt(back, markerOff); err != nil {
		fail("blk%d read back: %v", i, err)
	}
	fmt.Fprintf(&b, "blk%d wrote %d bytes at %d, read back equal: %v\n", i, len(m), markerOff, bytes.Equal(back, m))
	_, err = d.ReadAt(buf[:100], 0)
	fmt.Fprintf(&b, "blk%d unaligned read refused: %v\n", i, err != nil)
	err = d.Close()
	_, rerr := d.ReadAt(buf[:512], 0)
	fmt.Fprintf(&b, "blk%d closed: %v, then read refused: %v\n", i, err, errors.Is(rerr, blk.ErrClosed))
	return b.String()
}

// testNet asks QEMU's user network (slirp) who has 10.0.2.2, the
// gateway, and waits for the answer: a frame out through the transmit
// queue and one in through the receive queue. Then it pings the gateway
// with a full-MTU packet (1514-byte frames both ways) and checks the echo.
func testNet(t virtio.Transport) {
	n, err := net.Open(t, dma.Kernel{}, net.Options{})
	if err != nil {
		fail("%v", err)
	}
	mac := n.MAC()
	fmt.Printf("net mac %v link up %v\n", mac, n.LinkUp())
	req := make([]byte, 42)
	copy(req[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(req[6:12], mac)
	copy(req[12:14], []byte{0x08, 0x06})                   // ARP
	copy(req[14:22], []byte{0, 1, 0x08, 0x00, 6, 4, 0, 1}) // Ethernet/IPv4, request
	copy(req[22:28], mac)                                  // sender MAC
	copy(req[28:32], guestIP)                              // sender IP
	copy(req[38:42], gatewayIP)                            // target IP
	fr := exchange(n, "ARP reply", req, func(fr []byte) bool {
		return len(fr) >= 42 && fr[12] == 0x08 && fr[13] == 0x06 && fr[21] == 2 && bytes.Equal(fr[28:32], gatewayIP)
	})
	gw := gonet.HardwareAddr(fr[22:28])
	rx, tx, _ := n.Stats()
	fmt.Printf("net arp reply: 10.0.2.2 is at %v (to %v; %d frames sent, %d received)\n", gw, gonet.HardwareAddr(fr[0:6]), tx, rx)

	ping := echoRequest(mac, gw, net.MTU)
	fr = exchange(n, "echo reply", ping, func(fr []byte) bool {
		return len(fr) == len(ping) && fr[23] == 1 && fr[34] == 0 && bytes.Equal(fr[26:30], gatewayIP)
	})
	fmt.Printf("net echo reply: %d-byte frame, payload equal: %v\n", len(fr), bytes.Equal(fr[42:], ping[42:]))
	fmt.Printf("net closed: %v\n", n.Close())
}

var (
	guestIP   = []byte{10, 0, 2, 15}
	gatewayIP = []byte{10, 0, 2, 2}
)

// exchange transmits frame once a second until a received frame matches,
// for up to 20 s, and returns that frame.
func exchange(n *net.NIC, what string, frame []byte, match func([]byte) bool) []byte {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err := n.Transmit(frame); err != nil {
			fail("net transmit: %v", err)
		}
		timeout := time.After(time.Second)
	wait:
		for {
			select {
			case fr := <-n.Frames():
				if match(fr) {
					return fr
				}
			case <-timeout:
				break wait
			}
		}
	}
	rx, tx, dropped := n.Stats()
	fail("net: no %s from 10.0.2.2 (%d sent, %d received, %d dropped)", what, tx, rx, dropped)
	return nil
}

// echoRequest builds an Ethernet frame holding an IPv4 ICMP echo request
// from the guest to the gateway, ipLen bytes from the IP header on.
func echoRequest(src, dst gonet.HardwareAddr, ipLen int) []byte {
	f := make([]byte, 14+ipLen)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	f[12], f[13] = 0x08, 0x00
	ip := f[14:]
	ip[0] = 0x45 // IPv4, 20-byte header
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	binary.BigEndian.PutUint16(ip[4:], 0x5841) // identification
	ip[8], ip[9] = 64, 1                       // TTL, ICMP
	copy(ip[12:16], guestIP)
	copy(ip[16:20], gatewayIP)
	binary.BigEndian.PutUint16(ip[10:], checksum(ip[:20]))
	icmp := ip[20:]
	icmp[0] = 8 // echo request
	binary.BigEndian.PutUint16(icmp[4:], 0x1234)
	binary.BigEndian.PutUint16(icmp[6:], 1)
	for i := 8; i < len(icmp); i++ {
		icmp[i] = byte(i * 7)
	}
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	return f
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
