package wasmbin

// Encode writes the module in canonical section order. Custom sections are
// not written.
func (m *Module) Encode() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, body []byte) {
		out = append(out, id)
		out = AppendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	var b []byte
	if len(m.Types) > 0 {
		b = AppendU32(nil, uint32(len(m.Types)))
		for _, t := range m.Types {
			b = append(b, 0x60)
			b = appendValTypes(b, t.Params)
			b = appendValTypes(b, t.Results)
		}
		sec(SecType, b)
	}
	if len(m.Imports) > 0 {
		b = AppendU32(nil, uint32(len(m.Imports)))
		for _, im := range m.Imports {
			b = AppendName(b, im.Module)
			b = AppendName(b, im.Name)
			b = append(b, im.Kind)
			switch im.Kind {
			case KindFunc:
				b = AppendU32(b, im.Type)
			case KindTable:
				b = append(b, byte(im.Elem))
				b = appendLimits(b, im.Limits)
			case KindMemory:
				b = appendLimits(b, im.Limits)
			case KindGlobal:
				b = append(b, byte(im.Global.Type), boolByte(im.Global.Mutable))
			}
		}
		sec(SecImport, b)
	}
	if len(m.Funcs) > 0 {
		b = AppendU32(nil, uint32(len(m.Funcs)))
		for _, f := range m.Funcs {
			b = AppendU32(b, f)
		}
		sec(SecFunction, b)
	}
	if len(m.Tables) > 0 {
		b = AppendU32(nil, uint32(len(m.Tables)))
		for _, t := range m.Tables {
			b = append(b, byte(t.Elem))
			b = appendLimits(b, t.Limits)
		}
		sec(SecTable, b)
	}
	if len(m.Memories) > 0 {
		b = AppendU32(nil, uint32(len(m.Memories)))
		for _, l := range m.Memories {
			b = appendLimits(b, l)
		}
		sec(SecMemory, b)
	}
	if len(m.Globals) > 0 {
		b = AppendU32(nil, uint32(len(m.Globals)))
		for _, g := range m.Globals {
			b = append(b, byte(g.Type), boolByte(g.Mutable))
			b = append(b, g.Init...)
		}
		sec(SecGlobal, b)
	}
	if len(m.Exports) > 0 {
		b = AppendU32(nil, uint32(len(m.Exports)))
		for _, e := range m.Exports {
			b = AppendName(b, e.Name)
			b = append(b, e.Kind)
			b = AppendU32(b, e.Index)
		}
		sec(SecExport, b)
	}
	if m.HasStart {
		sec(SecStart, AppendU32(nil, m.Start))
	}
	if m.Elements != nil {
		sec(SecElement, m.Elements)
	}
	if m.DataCount != nil {
		sec(SecDataCount, m.DataCount)
	}
	if len(m.Code) > 0 {
		b = AppendU32(nil, uint32(len(m.Code)))
		for _, body := range m.Code {
			var f []byte
			f = AppendU32(f, uint32(len(body.Locals)))
			for _, l := range body.Locals {
				f = AppendU32(f, l.Count)
				f = append(f, byte(l.Type))
			}
			f = append(f, body.Code...)
			b = AppendU32(b, uint32(len(f)))
			b = append(b, f...)
		}
		sec(SecCode, b)
	}
	if m.Data != nil {
		sec(SecData, m.Data)
	}
	return out
}

func appendValTypes(b []byte, ts []ValType) []byte {
	b = AppendU32(b, uint32(len(ts)))
	for _, t := range ts {
		b = append(b, byte(t))
	}
	return b
}

func appendLimits(b []byte, l Limits) []byte {
	flag := byte(0)
	if l.HasMax {
		flag |= 1
	}
	if l.Shared {
		flag |= 2
	}
	b = append(b, flag)
	b = AppendU32(b, l.Min)
	if l.HasMax {
		b = AppendU32(b, l.Max)
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
