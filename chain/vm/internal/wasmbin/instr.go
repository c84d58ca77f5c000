package wasmbin

// Opcode is an instruction opcode. Single-byte opcodes are their byte value;
// prefixed opcodes are prefix<<8 | sub-opcode (sub-opcodes above 0xff are
// reported as 0xff, which no defined instruction uses).
type Opcode uint32

// Opcodes used by name in chain/vm.
const (
	OpUnreachable  Opcode = 0x00
	OpNop          Opcode = 0x01
	OpBlock        Opcode = 0x02
	OpLoop         Opcode = 0x03
	OpIf           Opcode = 0x04
	OpElse         Opcode = 0x05
	OpEnd          Opcode = 0x0b
	OpBr           Opcode = 0x0c
	OpBrIf         Opcode = 0x0d
	OpBrTable      Opcode = 0x0e
	OpReturn       Opcode = 0x0f
	OpCall         Opcode = 0x10
	OpCallIndirect Opcode = 0x11
	OpSelectT      Opcode = 0x1c
	OpLocalGet     Opcode = 0x20
	OpLocalSet     Opcode = 0x21
	OpLocalTee     Opcode = 0x22
	OpGlobalGet    Opcode = 0x23
	OpGlobalSet    Opcode = 0x24
	OpMemorySize   Opcode = 0x3f
	OpMemoryGrow   Opcode = 0x40
	OpI32Const     Opcode = 0x41
	OpI64Const     Opcode = 0x42
	OpF32Const     Opcode = 0x43
	OpF64Const     Opcode = 0x44
	OpI32Eqz       Opcode = 0x45
	OpI32Eq        Opcode = 0x46
	OpI32LtS       Opcode = 0x48
	OpI64LtS       Opcode = 0x53
	OpI32Add       Opcode = 0x6a
	OpI32Sub       Opcode = 0x6b
	OpI64Add       Opcode = 0x7c
	OpI64Sub       Opcode = 0x7d
	OpI64Mul       Opcode = 0x7e
	OpI64ShrU      Opcode = 0x88
	OpI64ExtendU   Opcode = 0xad // i64.extend_i32_u
	OpRefNull      Opcode = 0xd0
	OpRefFunc      Opcode = 0xd2

	PrefixMisc    = 0xfc
	PrefixSIMD    = 0xfd
	PrefixThreads = 0xfe

	OpMemoryInit Opcode = PrefixMisc<<8 | 8
	OpMemoryCopy Opcode = PrefixMisc<<8 | 10
	OpMemoryFill Opcode = PrefixMisc<<8 | 11
)

// Prefix returns the prefix byte of a prefixed opcode, or 0.
func (op Opcode) Prefix() byte {
	if op > 0xff {
		return byte(op >> 8)
	}
	return 0
}

// Instr is one decoded instruction.
type Instr struct {
	Op Opcode
	// Pos and End delimit the instruction (opcode and immediates) in the
	// reader's data.
	Pos, End int
	// Index is the first index immediate: label of br and br_if, function of
	// call and ref.func, type of call_indirect, local or global index.
	Index uint32
	// BlockType of block, loop and if: -64 (0x40) for empty, a negative
	// value type byte as s33 for one result, or a type index (>= 0).
	BlockType int64
	// Types are the value types of select t and ref.null.
	Types []ValType
}

// BlockValType returns the single value type of a block type, if it is one.
func (in *Instr) BlockValType() (ValType, bool) {
	if in.BlockType < 0 && in.BlockType != -64 {
		return ValType(byte(in.BlockType & 0x7f)), true
	}
	return 0, false
}

// Next decodes the instruction at r.Pos and advances past it. For the SIMD
// (0xfd) and threads (0xfe) prefixes it decodes only the sub-opcode: callers
// must not continue decoding after such an instruction.
func Next(r *Reader) (Instr, error) {
	in := Instr{Pos: r.Pos}
	b, err := r.Byte()
	if err != nil {
		return in, err
	}
	in.Op = Opcode(b)
	switch {
	case b == 0x02 || b == 0x03 || b == 0x04 || b == 0x06: // block, loop, if, try
		in.BlockType, err = r.S33()
		if err == nil && in.BlockType < 0 && in.BlockType != -64 && !ValType(byte(in.BlockType&0x7f)).Valid() {
			err = r.Errorf("invalid block type")
		}
	case b == 0x0c || b == 0x0d || b == 0x10 || b == 0x12 || b == 0xd2 || (b >= 0x20 && b <= 0x26):
		// br, br_if, call, return_call, ref.func, local.*, global.*, table.get/set
		in.Index, err = r.U32()
	case b == 0x0e:
		err = vec(r, func() error { _, err := r.U32(); return err })
		if err == nil {
			in.Index, err = r.U32()
		}
	case b == 0x11 || b == 0x13: // call_indirect, return_call_indirect
		if in.Index, err = r.U32(); err == nil {
			_, err = r.U32()
		}
	case b == 0x1c:
		in.Types, err = valTypes(r)
	case b >= 0x28 && b <= 0x3e:
		if _, err = r.U32(); err == nil {
			_, err = r.U32()
		}
	case b == 0x3f || b == 0x40:
		err = zeroByte(r)
	case b == 0x41:
		_, err = r.S32()
	case b == 0x42:
		_, err = r.S64()
	case b == 0x43:
		_, err = r.Bytes(4)
	case b == 0x44:
		_, err = r.Bytes(8)
	case b == 0xd0:
		var t ValType
		t, err = valType(r)
		in.Types = []ValType{t}
	case b == 0x07 || b == 0x08 || b == 0x09 || b == 0x18: // catch, throw, rethrow, delegate
		in.Index, err = r.U32()
	case b <= 0x01 || b == 0x05 || b == 0x0a || b == 0x19 || b == 0x0b || b == 0x0f || b == 0x1a || b == 0x1b || (b >= 0x45 && b <= 0xc4) || b == 0xd1:
		// no immediates
	case b == PrefixMisc:
		err = nextMisc(r, &in)
	case b == PrefixSIMD || b == PrefixThreads:
		var sub uint32
		sub, err = r.U32()
		in.Op = Opcode(b)<<8 | Opcode(min(sub, 0xff))
	default:
		err = r.Errorf("unknown opcode 0x%02x", b)
	}
	in.End = r.Pos
	return in, err
}

func nextMisc(r *Reader, in *Instr) error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	in.Op = PrefixMisc<<8 | Opcode(min(sub, 0xff))
	switch {
	case sub <= 7: // trunc_sat
		return nil
	case sub == 8: // memory.init dataidx 0x00
		if in.Index, err = r.U32(); err != nil {
			return err
		}
		return zeroByte(r)
	case sub == 9 || sub == 13: // data.drop, elem.drop
		in.Index, err = r.U32()
		return err
	case sub == 10: // memory.copy 0x00 0x00
		if err := zeroByte(r); err != nil {
			return err
		}
		return zeroByte(r)
	case sub == 11: // memory.fill 0x00
		return zeroByte(r)
	case sub == 12 || sub == 14: // table.init, table.copy
		if in.Index, err = r.U32(); err != nil {
			return err
		}
		_, err = r.U32()
		return err
	case sub >= 15 && sub <= 17: // table.grow, table.size, table.fill
		in.Index, err = r.U32()
		return err
	}
	return r.Errorf("unknown opcode 0xfc %d", sub)
}

func zeroByte(r *Reader) error {
	b, err := r.Byte()
	if err == nil && b != 0 {
		err = r.Errorf("expected memory index 0, got %d", b)
	}
	return err
}
