package ops

// window describes a sliding window over the spatial axes of an NC... tensor
// (convolution and pooling): kernel size, strides, dilations and the
// padding before and after each spatial axis, with the output size.
type window struct {
	in, k, s, d, pb, pe, out []int
}

// newWindow computes output sizes from the ONNX attributes auto_pad, pads,
// strides, dilations and (for pooling) ceil_mode.
func newWindow(b *Build, in, kernel []int, ceil bool) (*window, error) {
	r := len(in)
	if len(kernel) != r {
		return nil, b.Errorf("kernel_shape %v for %d spatial axes", kernel, r)
	}
	ones := make([]int, r)
	for i := range ones {
		ones[i] = 1
	}
	w := &window{in: in, k: kernel, s: b.Ints("strides", ones), d: b.Ints("dilations", ones),
		pb: make([]int, r), pe: make([]int, r), out: make([]int, r)}
	if len(w.s) != r || len(w.d) != r {
		return nil, b.Errorf("strides %v / dilations %v do not match %d spatial axes", w.s, w.d, r)
	}
	pads := b.Ints("pads", make([]int, 2*r))
	if len(pads) != 2*r {
		return nil, b.Errorf("pads %v do not match %d spatial axes", pads, r)
	}
	autoPad := b.String("auto_pad", "NOTSET")
	for i := 0; i < r; i++ {
		if w.k[i] < 1 || w.s[i] < 1 || w.d[i] < 1 || pads[i] < 0 || pads[i+r] < 0 {
			return nil, b.Errorf("bad kernel %v / strides %v / dilations %v / pads %v", w.k, w.s, w.d, pads)
		}
		ek := (w.k[i]-1)*w.d[i] + 1
		switch autoPad {
		case "NOTSET", "":
			w.pb[i], w.pe[i] = pads[i], pads[i+r]
			span := in[i] + w.pb[i] + w.pe[i] - ek
			if span < 0 {
				return nil, b.Errorf("kernel %v larger than padded input %v", w.k, in)
			}
			if ceil {
				w.out[i] = (span+w.s[i]-1)/w.s[i] + 1
				if (w.out[i]-1)*w.s[i] >= in[i]+w.pb[i] {
					w.out[i]--
				}
			} else {
				w.out[i] = span/w.s[i] + 1
			}
		case "VALID":
			if in[i] < ek {
				return nil, b.Errorf("kernel %v larger than input %v", w.k, in)
			}
			w.out[i] = (in[i]-ek)/w.s[i] + 1
		case "SAME_UPPER", "SAME_LOWER":
			w.out[i] = (in[i] + w.s[i] - 1) / w.s[i]
			total := max(0, (w.out[i]-1)*w.s[i]+ek-in[i])
			small, big := total/2, total-total/2
			if autoPad == "SAME_UPPER" {
				w.pb[i], w.pe[i] = small, big
			} else {
				w.pb[i], w.pe[i] = big, small
			}
		default:
			return nil, b.Errorf("auto_pad %q is not supported", autoPad)
		}
	}
	return w, nil
}

// patchTable describes how to gather the patch matrix of a 2-D window
// over cg channels (one row of kc = cg·kh·kw values per output position).
// elem holds every element's input offset (relative to the group's first
// channel plane) or -1 for padding. For positions whose window lies wholly
// inside the input and whose kernel rows are contiguous (x dilation 1),
// interior is true and starts holds the offset of each of the cg·kh kernel
// rows, so the row is copied with one copy of kw values.
type patchTable struct {
	kc, kw   int
	elem     []int32
	interior []bool
	starts   []int32
}

func (w *window) patchTable(cg int) *patchTable {
	kh, kw := w.k[0], w.k[1]
	ih, iw, oh, ow := w.in[0], w.in[1], w.out[0], w.out[1]
	kc := cg * kh * kw
	t := &patchTable{kc: kc, kw: kw, elem: make([]int32, oh*ow*kc), interior: make([]bool, oh*ow), starts: make([]int32, oh*ow*cg*kh)}
	for p := 0; p < oh*ow; p++ {
		oy, ox := p/ow, p%ow
		row := t.elem[p*kc : (p+1)*kc]
		inside := w.d[1] == 1
		i := 0
		for ch := 0; ch < cg; ch++ {
			for ky := 0; ky < kh; ky++ {
				y := oy*w.s[0] - w.pb[0] + ky*w.d[0]
				x0 := ox*w.s[1] - w.pb[1]
				t.starts[(p*cg+ch)*kh+ky] = int32((ch*ih+y)*iw + x0)
				for kx := 0; kx < kw; kx++ {
					x := x0 + kx*w.d[1]
					if y < 0 || y >= ih || x < 0 || x >= iw {
						row[i] = -1
						inside = false
					} else {
						row[i] = int32((ch*ih+y)*iw + x)
					}
					i++
				}
			}
		}
		t.interior[p] = inside
	}
	return t
}

// gather writes the patch matrix of one image group (src starts at its
// first channel plane) into col, rows ldk apart.
func gather[T uint8 | float32](t *patchTable, src, col []T, ldk int, pad T) {
	kc, kw := t.kc, t.kw
	rows := kc / kw
	for p, inside := range t.interior {
		row := col[p*ldk : p*ldk+kc]
		if inside {
			for r, at := range t.starts[p*rows : (p+1)*rows] {
				d, sr := row[r*kw:(r+1)*kw], src[at:int(at)+kw]
				if kw <= 8 { // short rows: a loop beats a memmove call
					for x := range d {
						d[x] = sr[x]
					}
				} else {
					copy(d, sr)
				}
			}
			continue
		}
		for i, at := range t.elem[p*kc : (p+1)*kc] {
			if at < 0 {
				row[i] = pad
			} else {
				row[i] = src[at]
			}
		}
	}
}

// nhwc gathers patches through a zero-point-padded channels-last copy of
// the input, for dilation 1 and one group: each kernel row of a patch is
// then kw·C contiguous values, so a patch row takes kh copies. The patch
// element order is (ky, kx, c), and weights are repacked to match.
type nhwc struct {
	c, ih, iw, ph, pw int
	kh, kw, sh, sw    int
	oh, ow, pbh, pbw  int
}

func (w *window) nhwc(c int) *nhwc {
	return &nhwc{c: c, ih: w.in[0], iw: w.in[1], ph: w.in[0] + w.pb[0] + w.pe[0], pw: w.in[1] + w.pb[1] + w.pe[1],
		kh: w.k[0], kw: w.k[1], sh: w.s[0], sw: w.s[1], oh: w.out[0], ow: w.out[1], pbh: w.pb[0], pbw: w.pb[1]}
}

// paddedLen is the size of the padded channels-last buffer, with 8 values
// of slack so that short kernel rows can be moved 8 bytes at a time.
func (g *nhwc) paddedLen() int { return g.ph*g.pw*g.c + 8 }

// repack reorders one output channel's weights from (c, ky, kx) to (ky, kx, c).
func repack[T int8 | float32](dst, src []T, c, kh, kw int) {
	for ch := 0; ch < c; ch++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				dst[(ky*kw+kx)*c+ch] = src[(ch*kh+ky)*kw+kx]
			}
		}
	}
}

// gatherNHWC writes the patch matrix of one image (src: C planes, NCHW)
// into col (rows ldk apart), using padded, whose border already holds the
// padding value.
func gatherNHWC[T uint8 | float32](g *nhwc, src, padded, col []T, ldk int) {
	c := g.c
	for ch := 0; ch < c; ch++ {
		plane := src[ch*g.ih*g.iw : (ch+1)*g.ih*g.iw]
		for y := 0; y < g.ih; y++ {
			row := padded[((y+g.pbh)*g.pw+g.pbw)*c:]
			for x, v := range plane[y*g.iw : (y+1)*g.iw] {
				row[x*c+ch] = v
			}
		}
	}
	seg := g.kw * c
	kc := seg * g.kh
	if seg <= 8 && kc+8-seg <= ldk {
		// Short kernel rows: move 8 values per row as one block. Values
		// written past a row are overwritten by the next row or land in
		// the row's padding beyond kc, which the GEMM does not read (float)
		// or multiplies by zero weights (int8).
		switch cv := any(col).(type) {
		case []float32:
			gather8F32(g, any(padded).([]float32), cv, ldk)
		case []uint8:
			gather8U8(g, any(padded).([]uint8), cv, ldk)
		}
		return
	}
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			row := col[(oy*g.ow+ox)*ldk:]
			for ky := 0; ky < g.kh; ky++ {
				start := ((oy*g.sh+ky)*g.pw + ox*g.sw) * c
				copy(row[ky*seg:(ky+1)*seg], padded[start:start+seg])
			}
		}
	}
}

// gather8F32 and gather8U8 are gatherNHWC's short-row loops, written per
// element type so that the 8-value block move compiles to plain loads and
// stores (a generic version calls memmove).
func gather8F32(g *nhwc, padded, col []float32, ldk int) {
	seg := g.kw * g.c
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			row := col[(oy*g.ow+ox)*ldk : (oy*g.ow+ox+1)*ldk]
			for ky := 0; ky < g.kh; ky++ {
				start := ((oy*g.sh+ky)*g.pw + ox*g.sw) * g.c
				*(*[8]float32)(row[ky*seg:]) = *(*[8]float32)(padded[start:])
			}
		}
	}
}

func gather8U8(g *nhwc, padded, col []uint8, ldk int) {
	seg := g.kw * g.c
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			row := col[(oy*g.ow+ox)*ldk : (oy*g.ow+ox+1)*ldk]
			for ky := 0; ky < g.kh; ky++ {
				start := ((oy*g.sh+ky)*g.pw + ox*g.sw) * g.c
				*(*[8]uint8)(row[ky*seg:]) = *(*[8]uint8)(padded[start:])
			}
		}
	}
}
