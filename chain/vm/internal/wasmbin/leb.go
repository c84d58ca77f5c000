// Package wasmbin reads and writes the WebAssembly binary format (core
// specification 2.0, https://webassembly.github.io/spec/core/binary/) as far
// as the contract VM needs it: the module's sections, function types, and a
// decoder of instructions with their immediates, so that chain/vm can check
// and rewrite function bodies. It never panics on malformed input: every
// read is bounds-checked and reports the byte offset where decoding failed.
package wasmbin

import (
	"errors"
	"fmt"
)

// errEOF is returned when a read runs past the end of its input.
var errEOF = errors.New("unexpected end of data")

// Reader reads LEB128 numbers, bytes and names from a byte slice.
// Base is added to positions in error messages (the offset of Data in the
// whole module).
type Reader struct {
	Data []byte
	Pos  int
	Base int
}

// Off returns the module offset of the read position.
func (r *Reader) Off() int { return r.Base + r.Pos }

// Errorf returns an error that names the current module offset.
func (r *Reader) Errorf(format string, args ...any) error {
	return fmt.Errorf("at byte offset %d: %s", r.Off(), fmt.Sprintf(format, args...))
}

// EOF reports whether all data has been read.
func (r *Reader) EOF() bool { return r.Pos >= len(r.Data) }

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.Pos >= len(r.Data) {
		return 0, r.Errorf("%v", errEOF)
	}
	b := r.Data[r.Pos]
	r.Pos++
	return b, nil
}

// Bytes reads n bytes (a sub-slice of the input).
func (r *Reader) Bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.Data)-r.Pos {
		return nil, r.Errorf("%v (need %d bytes)", errEOF, n)
	}
	b := r.Data[r.Pos : r.Pos+n]
	r.Pos += n
	return b, nil
}

// U32 reads an unsigned LEB128 number of at most 32 bits.
func (r *Reader) U32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// U64 reads an unsigned LEB128 number of at most 64 bits.
func (r *Reader) U64() (uint64, error) { return r.uleb(64) }

func (r *Reader) uleb(bits uint) (uint64, error) {
	var v uint64
	var shift uint
	for i := 0; ; i++ {
		b, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits || (bits-shift < 7 && uint64(b&0x7f)>>(bits-shift) != 0) {
			return 0, r.Errorf("integer too large for %d bits", bits)
		}
		v |= uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, nil
		}
		shift += 7
	}
}

// S32 reads a signed LEB128 number of at most 32 bits.
func (r *Reader) S32() (int32, error) {
	v, err := r.sleb(32)
	return int32(v), err
}

// S33 reads a signed LEB128 number of at most 33 bits (block types).
func (r *Reader) S33() (int64, error) { return r.sleb(33) }

// S64 reads a signed LEB128 number of at most 64 bits.
func (r *Reader) S64() (int64, error) { return r.sleb(64) }

func (r *Reader) sleb(bits uint) (int64, error) {
	var v int64
	var shift uint
	for {
		b, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			return 0, r.Errorf("integer too large for %d bits", bits)
		}
		v |= int64(b&0x7f) << shift
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
}

// Name reads a length-prefixed UTF-8 name.
func (r *Reader) Name() (string, error) {
	n, err := r.U32()
	if err != nil {
		return "", err
	}
	b, err := r.Bytes(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendU32 appends v as unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte { return AppendU64(b, uint64(v)) }

// AppendU64 appends v as unsigned LEB128.
func AppendU64(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// AppendS64 appends v as signed LEB128.
func AppendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendName appends a length-prefixed name.
func AppendName(b []byte, s string) []byte {
	b = AppendU32(b, uint32(len(s)))
	return append(b, s...)
}
