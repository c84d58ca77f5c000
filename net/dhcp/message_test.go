package dhcp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var mac = []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// ack is an ACK as QEMU's user network sends it.
func ack() *Message {
	return &Message{
		Op: OpReply, Xid: 0xdeadbeef, YIAddr: netip.MustParseAddr("10.0.2.15"), SIAddr: netip.MustParseAddr("10.0.2.2"),
		CHAddr: mac,
		Options: map[byte][]byte{
			OptMessageType: {byte(Ack)},
			OptServerID:    {10, 0, 2, 2},
			OptLeaseTime:   Uint32(86400),
			OptSubnetMask:  {255, 255, 255, 0},
			OptRouter:      {10, 0, 2, 2},
			OptDNS:         {10, 0, 2, 3},
		},
	}
}

func TestEncodeLayout(t *testing.T) {
	m := &Message{Op: OpRequest, Xid: 0x01020304, Secs: 7, Flags: FlagBroadcast, CIAddr: netip.MustParseAddr("10.0.2.15"), CHAddr: mac,
		Options: map[byte][]byte{OptMessageType: {byte(Request)}, OptClientID: append([]byte{1}, mac...)}}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 300 {
		t.Errorf("length %d, want 300 (BOOTP minimum)", len(b))
	}
	want := []struct {
		off  int
		data []byte
	}{
		{0, []byte{1, 1, 6, 0, 1, 2, 3, 4, 0, 7, 0x80, 0}},
		{12, []byte{10, 0, 2, 15, 0, 0, 0, 0}},
		{28, mac},
		{236, []byte{99, 130, 83, 99, 53, 1, 3, 61, 7, 1}},
		{246, mac},
		{252, []byte{255, 0}},
	}
	for _, w := range want {
		if got := b[w.off : w.off+len(w.data)]; !bytes.Equal(got, w.data) {
			t.Errorf("bytes at %d: % x, want % x", w.off, got, w.data)
		}
	}
	if _, err := (&Message{CHAddr: make([]byte, 17)}).Encode(); err == nil {
		t.Error("a 17-byte hardware address encoded")
	}
	if _, err := (&Message{CIAddr: netip.MustParseAddr("::1")}).Encode(); err == nil {
		t.Error("an IPv6 ciaddr encoded")
	}
}

func TestRoundTrip(t *testing.T) {
	m := ack()
	m.Options[OptMessage] = bytes.Repeat([]byte("x"), 600) // split into 255+255+90
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Op != m.Op || d.Xid != m.Xid || d.YIAddr != m.YIAddr || d.SIAddr != m.SIAddr || !bytes.Equal(d.CHAddr, mac) || d.Type() != Ack {
		t.Errorf("decoded %+v", d)
	}
	if !sameOptions(d.Options, m.Options) {
		t.Errorf("options %v, want %v", d.Options, m.Options)
	}
	l, err := LeaseFrom(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.String(); got != "10.0.2.15/24 gw 10.0.2.2 dns 10.0.2.3 lease 86400s" {
		t.Errorf("lease %q", got)
	}
	if l.T1 != 43200*time.Second || l.T2 != 75600*time.Second {
		t.Errorf("default T1 %v, T2 %v", l.T1, l.T2)
	}
}

func sameOptions(a, b map[byte][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func TestDecodeErrors(t *testing.T) {
	good, _ := ack().Encode()
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "0 bytes"},
		{"short", good[:239], "239 bytes"},
		{"cookie", mod(func(b []byte) []byte { b[237] = 0; return b }), "magic cookie"},
		{"hlen", mod(func(b []byte) []byte { b[2] = 17; return b }), "length 17 at offset 2"},
		{"no length", mod(func(b []byte) []byte { return append(b[:240], 53) }), "option 53 at offset 240 has no length"},
		{"overrun", mod(func(b []byte) []byte { return append(b[:240], 53, 5, 1) }), "option 53 at offset 240 claims 5 bytes, 1 remain"},
		{"overload value", mod(func(b []byte) []byte { return append(b[:240], 52, 1, 9, 255) }), "overload value 09"},
		{"overrun in file", mod(func(b []byte) []byte {
			b[108], b[109] = 3, 200
			return append(b[:240], 52, 1, 1, 255)
		}), "option 3 at offset 108 claims 200"},
	}
	for _, c := range cases {
		_, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestOverloadAndPad(t *testing.T) {
	b := make([]byte, 240)
	b[0], b[2] = OpReply, 6
	copy(b[236:], magicCookie[:])
	// Options area: pad, overload both, no end option.
	b = append(b, 0, 52, 1, 3)
	copy(b[108:], []byte{53, 1, 5, 255})          // file: message type ACK
	copy(b[44:], []byte{0, 0, 51, 4, 0, 0, 1, 0}) // sname: lease 256 s
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type() != Ack {
		t.Errorf("type %v from the file field", m.Type())
	}
	if d, ok := m.Duration(OptLeaseTime); !ok || d != 256*time.Second {
		t.Errorf("lease %v %v from the sname field", d, ok)
	}
	if _, ok := m.Options[OptOverload]; ok {
		t.Error("the overload option stayed among the options")
	}
}

func TestLeaseFrom(t *testing.T) {
	m := ack()
	m.Options[OptRenewalTime] = Uint32(100)
	m.Options[OptRebindingTime] = Uint32(50) // before T1: T1 is clamped
	m.Options[OptRouter] = AddrBytes(netip.MustParseAddr("10.0.2.1"), netip.MustParseAddr("10.0.2.2"))
	l, err := LeaseFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	if l.T1 != 50*time.Second || l.T2 != 50*time.Second || l.Gateway() != netip.MustParseAddr("10.0.2.1") || l.Server != netip.MustParseAddr("10.0.2.2") {
		t.Errorf("lease %+v", l)
	}
	m.Options[OptLeaseTime] = Uint32(0xffffffff)
	delete(m.Options, OptRenewalTime)
	delete(m.Options, OptRebindingTime)
	if l, err := LeaseFrom(m); err != nil || l.Time != Infinite || l.T1 != Infinite || !strings.HasSuffix(l.String(), "lease infinite") {
		t.Errorf("infinite lease: %v %v", l, err)
	}
	bad := []struct {
		name string
		f    func(m *Message)
		want string
	}{
		{"no address", func(m *Message) { m.YIAddr = netip.IPv4Unspecified() }, "offered address 0.0.0.0"},
		{"broadcast", func(m *Message) { m.YIAddr = Broadcast }, "offered address 255.255.255.255"},
		{"no mask", func(m *Message) { delete(m.Options, OptSubnetMask) }, "subnet mask"},
		{"holey mask", func(m *Message) { m.Options[OptSubnetMask] = []byte{255, 0, 255, 0} }, "255.0.255.0 is not a contiguous"},
		{"zero mask", func(m *Message) { m.Options[OptSubnetMask] = []byte{0, 0, 0, 0} }, "not a contiguous"},
		{"no lease", func(m *Message) { delete(m.Options, OptLeaseTime) }, "lease time"},
		{"short lease", func(m *Message) { m.Options[OptLeaseTime] = []byte{1, 2} }, "lease time"},
	}
	for _, c := range bad {
		m := ack()
		c.f(m)
		if _, err := LeaseFrom(m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	m = ack()
	m.Options[OptDNS] = []byte{1, 2, 3} // not a multiple of 4: ignored
	if l, err := LeaseFrom(m); err != nil || l.DNS != nil {
		t.Errorf("3-byte DNS option: %v %v", l.DNS, err)
	}
}

func TestTypeString(t *testing.T) {
	if Discover.String() != "DISCOVER" || Inform.String() != "INFORM" || Type(0).String() != "type(0)" || Type(99).String() != "type(99)" {
		t.Error("type names")
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it must return an error or
// a message that encodes and decodes back to the same fields and options.
func FuzzDecode(f *testing.F) {
	for _, m := range []*Message{ack(), {Op: OpRequest, Xid: 1, CHAddr: mac, Options: map[byte][]byte{OptMessageType: {1}, OptParamRequest: {1, 3, 6}}}} {
		b, _ := m.Encode()
		f.Add(b)
	}
	short := make([]byte, 244)
	copy(short[236:], magicCookie[:])
	binary.BigEndian.PutUint32(short[240:], 0x34010300) // overload both, truncated
	f.Add(short)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		e, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		d, err := Decode(e)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if d.Op != m.Op || d.Xid != m.Xid || d.Secs != m.Secs || d.Flags != m.Flags || d.CIAddr != m.CIAddr ||
			d.YIAddr != m.YIAddr || d.SIAddr != m.SIAddr || d.GIAddr != m.GIAddr || !bytes.Equal(d.CHAddr, m.CHAddr) ||
			!sameOptions(d.Options, m.Options) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, d)
		}
		LeaseFrom(m) // must not panic
		_ = m.Type().String()
	})
}
