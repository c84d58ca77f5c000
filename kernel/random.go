package kernel

import (
	"math/bits"

	"github.com/xairrosx/xairrosx/arch/amd64"
)

// The kernel's random numbers: a ChaCha20 keystream (RFC 8439 block function)
// keyed from RDSEED/RDRAND and the TSC, rekeyed from its own output after
// every request (fast key erasure) and mixed with fresh hardware entropy
// every rekeyInterval blocks. getrandom always fills the whole buffer.

const rekeyInterval = 1024

var (
	rngKey     [8]uint32
	rngCounter uint64
	rngBlocks  uint64
	haveRdrand bool
	haveRdseed bool
)

func hwEntropy() uint64 {
	if haveRdseed {
		for i := 0; i < 16; i++ {
			if v, ok := amd64.Rdseed(); ok {
				return v
			}
		}
	}
	if haveRdrand {
		for i := 0; i < 16; i++ {
			if v, ok := amd64.Rdrand(); ok {
				return v
			}
		}
	}
	t := amd64.Rdtsc()
	return t * 0x9E3779B97F4A7C15
}

func rngSeed() {
	for i := 0; i < 8; i += 2 {
		v := hwEntropy() ^ amd64.Rdtsc()
		rngKey[i] ^= uint32(v)
		rngKey[i+1] ^= uint32(v >> 32)
	}
}

func quarter(a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	a += b
	d = bits.RotateLeft32(d^a, 16)
	c += d
	b = bits.RotateLeft32(b^c, 12)
	a += b
	d = bits.RotateLeft32(d^a, 8)
	c += d
	b = bits.RotateLeft32(b^c, 7)
	return a, b, c, d
}

// chachaBlock computes one 64-byte ChaCha20 block for the current key and
// counter.
func chachaBlock(out *[16]uint32) {
	var s [16]uint32
	s[0], s[1], s[2], s[3] = 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574
	copy(s[4:12], rngKey[:])
	s[12], s[13] = uint32(rngCounter), uint32(rngCounter>>32)
	x := s
	for i := 0; i < 10; i++ {
		x[0], x[4], x[8], x[12] = quarter(x[0], x[4], x[8], x[12])
		x[1], x[5], x[9], x[13] = quarter(x[1], x[5], x[9], x[13])
		x[2], x[6], x[10], x[14] = quarter(x[2], x[6], x[10], x[14])
		x[3], x[7], x[11], x[15] = quarter(x[3], x[7], x[11], x[15])
		x[0], x[5], x[10], x[15] = quarter(x[0], x[5], x[10], x[15])
		x[1], x[6], x[11], x[12] = quarter(x[1], x[6], x[11], x[12])
		x[2], x[7], x[8], x[13] = quarter(x[2], x[7], x[8], x[13])
		x[3], x[4], x[9], x[14] = quarter(x[3], x[4], x[9], x[14])
	}
	for i := range out {
		out[i] = x[i] + s[i]
	}
	rngCounter++
	rngBlocks++
}

// randomFill fills p with random bytes.
func randomFill(p []byte) {
	var blk [16]uint32
	for len(p) > 0 {
		chachaBlock(&blk)
		for i := 0; i < 64 && len(p) > 0; i++ {
			p[0] = byte(blk[i/4] >> (8 * (i % 4)))
			p = p[1:]
		}
	}
	// Fast key erasure: the next key comes from the keystream.
	chachaBlock(&blk)
	copy(rngKey[:], blk[:8])
	if rngBlocks >= rekeyInterval {
		rngBlocks = 0
		rngSeed()
	}
}

func sysGetrandom(buf, n uintptr) int64 {
	if n == 0 {
		return 0
	}
	if n > 1<<25 {
		n = 1 << 25
	}
	if !userOK(buf, n, true) {
		return -_EFAULT
	}
	randomFill(bytesAt(buf, int(n)))
	return int64(n)
}
