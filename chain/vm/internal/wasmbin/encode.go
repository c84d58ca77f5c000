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
	vecSection(sec, SecType, m.Types, func(b []byte, t FuncType) []byte {
		b = append(b, 0x60)
		b = appendValTypes(b, t.Params)
		return appendValTypes(b, t.Results)
	})
	vecSection(sec, SecImport, m.Imports, func(b []byte, im Import) []byte {
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
		return b
	})
	vecSection(sec, SecFunction, m.Funcs, AppendU32)
	vecSection(sec, SecTable, m.Tables, func(b []byte, t Table) []byte {
		return appendLimits(append(b, byte(t.Elem)), t.Limits)
	})
	vecSection(sec, SecMemory, m.Memories, appendLimits)
	vecSection(sec, SecGlobal, m.Globals, func(b []byte, g Global) []byte {
		b = append(b, byte(g.Type), boolByte(g.Mutable))
		return append(b, g.Init...)
	})
	vecSection(sec, SecExport, m.Exports, func(b []byte, e Export) []byte {
		b = AppendName(b, e.Name)
		b = append(b, e.Kind)
		return AppendU32(b, e.Index)
	})
	if m.HasStart {
		sec(SecStart, AppendU32(nil, m.Start))
	}
	if m.Elements != nil {
		sec(SecElement, m.Elements)
	}
	if m.DataCount != nil {
		sec(SecDataCount, m.DataCount)
	}
	vecSection(sec, SecCode, m.Code, func(b []byte, body Body) []byte {
		f := AppendU32(nil, uint32(len(body.Locals)))
		for _, l := range body.Locals {
			f = AppendU32(f, l.Count)
			f = append(f, byte(l.Type))
		}
		f = append(f, body.Code...)
		b = AppendU32(b, uint32(len(f)))
		return append(b, f...)
	})
	if m.Data != nil {
		sec(SecData, m.Data)
	}
	return out
}

// vecSection writes section id holding the vector items, each encoded by
// enc; an empty vector writes no section.
func vecSection[T any](sec func(byte, []byte), id byte, items []T, enc func([]byte, T) []byte) {
	if len(items) == 0 {
		return
	}
	b := AppendU32(nil, uint32(len(items)))
	for _, it := range items {
		b = enc(b, it)
	}
	sec(id, b)
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
