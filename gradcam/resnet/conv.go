package resnet

import (
	"slices"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Conv2D is a KxK convolution without bias ("same" padding (K-1)/2, like PyTorch's padding=K//2),
// x: [B,H,W,Cin] -> [B,ceil(H/stride),ceil(W/stride),outChannels]. Its kernel is the variable
// "weights" of scope, shaped [K,K,Cin,Cout] (HWIO), He-initialised.
func Conv2D(scope *model.Scope, x *Node, outChannels, kernel, stride int) *Node {
	return conv2D(scope, x, outChannels, kernel, stride, PadZeros)
}

// conv2D is Conv2D with a padding mode (PadZeros or PadReflect).
func conv2D(scope *model.Scope, x *Node, outChannels, kernel, stride int, padding string) *Node {
	return Im2ColConvPad(x, convKernel(scope, x, x.Shape().Dimensions[3], outChannels, kernel), stride, padding)
}

// convKernel returns the value of scope's variable "weights" [K,K,Cin,Cout] (Cin = inChannels) in x's graph.
func convKernel(scope *model.Scope, x *Node, inChannels, outChannels, kernel int) *Node {
	return scope.WithInitializer(initializer.HeFn(scope)).
		VariableWithShape("weights", shapes.Make(x.DType(), kernel, kernel, inChannels, outChannels)).
		NodeValue(x.Graph())
}

// Im2ColConv convolves x [B,H,W,Cin] with kernel [K,K,Cin,Cout] (K odd, zero padding (K-1)/2 each side)
// as one matrix product: the K*K shifted views of the padded input are concatenated along the channels
// ([B,H',W',K*K*Cin], ordered (dy,dx,cin) to match the kernel's row-major layout) and multiplied by the
// kernel reshaped to [K*K*Cin,Cout]. On the pure-Go backend this is much faster than graph.Convolve.
// Padding uses Concatenate with zeros because Pad has no gradient there.
func Im2ColConv(x, kernel *Node, stride int) *Node {
	return Im2ColConvPad(x, kernel, stride, PadZeros)
}

// Im2ColConvPad is Im2ColConv with the padding mode PadZeros or PadReflect (the (K-1)/2 rows and columns
// next to each edge mirrored, without repeating the edge: PyTorch's padding_mode="reflect").
func Im2ColConvPad(x, kernel *Node, stride int, padding string) *Node {
	return im2colConv(x, kernel, stride, padding)
}

// im2colConv is Im2ColConvPad for training (the inference graph's convolution is im2colConvCF, channels
// first): out = cols . kernel, cols being the im2col matrix [B*H'*W', K*K*Cin] and the kernel [K*K*Cin, Cout].
// The backend's matmul reads the large cols in place as its left operand and packs only the small kernel, and
// the output comes out in [B,H',W',Cout] order: no transpose in the forward pass. The gradients are given
// directly: with respect to cols v . kernel^T, with respect to the kernel (v^T . cols)^T (convKernelGrad),
// layouts the matmul takes without transposing cols; for larger zero-padded convolutions the gradient with
// respect to x is col2im's (per tap), so neither the views' nor the padding's slices run backwards.
func im2colConv(x, kernel *Node, stride int, padding string) *Node {
	kdims := kernel.Shape().Dimensions
	k, cin, cout := kdims[0], kdims[2], kdims[3]
	dims := x.Shape().Dimensions
	b, oh, ow := dims[0], outSide(dims[1], stride), outSide(dims[2], stride)
	kmat := Reshape(kernel, k*k*cin, cout)
	var flat *Node // the im2col matrix, kept for the kernel's gradient
	cols := func(x *Node) *Node {
		views, _, _ := im2colViews(x, kernel, stride, padding, nhwc)
		flat = Reshape(Concatenate(views, -1), b*oh*ow, k*k*cin)
		return flat
	}
	matmul := func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil) }
	var out *Node
	switch {
	case k == 1:
		out = matmulNN(cols(x), kmat)
	case padding != PadReflect && b*oh*ow*cin*cout >= smallMatmulFlops:
		out = withGradients([]*Node{x, kmat}, func(in []*Node) *Node { return matmul([]*Node{cols(in[0]), in[1]}) },
			func(v *Node) []*Node {
				return []*Node{col2im(Reshape(v, b, oh, ow, cout), kernel, dims, stride), convKernelGrad(v, flat)}
			})
	default:
		out = withGradients([]*Node{cols(x), kmat}, matmul, func(v *Node) []*Node {
			return []*Node{DotGeneral(v, []int{1}, nil, kmat, []int{1}, nil), convKernelGrad(v, flat)}
		})
	}
	return Reshape(out, b, oh, ow, cout)
}

// convKernelGrad is the gradient with respect to the kernel [K*K*Cin, Cout] of cols . kernel (any a . b with
// respect to b), from the output's gradient v [B*H'*W', Cout] and cols [B*H'*W', K*K*Cin]: (v^T . cols)^T. Only the small v and the
// result are transposed; cols is the matmul's right operand as it is.
func convKernelGrad(v, cols *Node) *Node {
	return Transpose(DotGeneral(Transpose(v, 0, 1), []int{1}, nil, cols, []int{0}, nil), 0, 1)
}

// smallMatmulFlops: the Go backend multiplies matrices with fewer products than this (4Mi) with its
// small-matrix kernels (no packing; a 16-lane register per output in the transposed layout, scalar code
// when the output has at most 16 columns).
const smallMatmulFlops = 4 << 20

// col2im is the gradient with respect to x [B,H,W,Cin] (dims) of the zero-padded convolution by kernel
// [K,K,Cin,Cout] with the given stride, from the output's gradient v [B,H',W',Cout]: for each tap, v .
// kernel[dy,dx]^T ([B,H',W',Cin]) is placed at its offset (and stride) on the padded grid by Pad (block
// copies), the taps are summed and the padding cropped by one Slice. Autodiff of im2col would slice the
// K*K taps out of the gradient of the concatenated views instead (the Go backend's Slice copies element by
// element). Not differentiable again (the Go backend's Pad has no gradient in GoMLX).
func col2im(v, kernel *Node, dims []int, stride int) *Node {
	kd := kernel.Shape().Dimensions
	k, cin, cout := kd[0], kd[2], kd[3]
	b, h, w := dims[0], dims[1], dims[2]
	vd := v.Shape().Dimensions
	oh, ow := vd[1], vd[2]
	p := (k - 1) / 2
	v2 := Reshape(v, b*oh*ow, cout)
	zero := ScalarZero(v.Graph(), v.DType())
	var sum *Node
	for dy := range k {
		for dx := range k {
			wtT := Transpose(Reshape(Slice(kernel, AxisElem(dy), AxisElem(dx)), cin, cout), 0, 1) // [Cout,Cin]
			g := Reshape(DotGeneral(v2, []int{1}, nil, wtT, []int{0}, nil), b, oh, ow, cin)
			g = Pad(g, zero, PadAxis{},
				PadAxis{Start: dy, End: h + 2*p - dy - (oh-1)*stride - 1, Interior: stride - 1},
				PadAxis{Start: dx, End: w + 2*p - dx - (ow-1)*stride - 1, Interior: stride - 1}, PadAxis{})
			if sum == nil {
				sum = g
			} else {
				sum = Add(sum, g)
			}
		}
	}
	return Slice(sum, AxisRange(), AxisRange(p, p+h), AxisRange(p, p+w))
}

// matmulNN is a . b for a [N,K], b [K,M] with all three products (forward and both gradients) in the
// backend's [N,K].[K,M] matmul layout, the gradients from transposed copies of the smaller operands. For the
// 1x1 convolutions: the backend's matmul for the other layout (rows of both operands contracted), used by
// autodiff's gradient with respect to a, is ~15x slower when the contracted axis is short (its small-matrix
// kernel reduces a 16-lane register per output value).
func matmulNN(a, b *Node) *Node {
	return withGradients([]*Node{a, b}, func(in []*Node) *Node {
		return DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil)
	}, func(v *Node) []*Node {
		da := DotGeneral(v, []int{1}, nil, Transpose(b, 0, 1), []int{0}, nil) // [N,M].[M,K]
		return []*Node{da, convKernelGrad(v, a)}
	})
}

// im2colConvCF is the inference convolution, channels first: x [Cin,B,H,W] -> [Cout,B,H',W'] as kernel^T
// [Cout, K*K*Cin] . cols [K*K*Cin, B*H'*W'] (+ bias [Cout] when not nil), cols being the K*K shifted views
// of the padded x concatenated along axis 0 (block copies). The im2col matrix is the right operand, which the
// Go backend packs cheaply, and the output comes out in the next layer's layout: no transpose of the large
// matrices, neither here nor in the gradient with respect to x (Grad-CAM's). The bias rides in the same
// matmul, as a row of ones appended to the im2col matrix and a column appended to the kernel: no separate
// pass over the output (the Go backend's broadcasting Add walks an index iterator).
func im2colConvCF(x, kernel, bias *Node, stride int, padding string) *Node {
	views, oh, ow := im2colViews(x, kernel, stride, padding, cbhw)
	kdims := kernel.Shape().Dimensions
	k, cin, cout := kdims[0], kdims[2], kdims[3]
	b := x.Shape().Dimensions[1]
	rows := k * k * cin
	kmatT := Transpose(Reshape(kernel, rows, cout), 0, 1) // [Cout, K*K*Cin]
	if bias != nil {
		views = append(views, Ones(x.Graph(), shapes.Make(x.DType(), 1, b, oh, ow)))
		kmatT = Concatenate([]*Node{kmatT, Reshape(bias, cout, 1)}, 1)
		rows++
	}
	cols := views[0]
	if len(views) > 1 {
		cols = Concatenate(views, 0)
	}
	out := DotGeneral(kmatT, []int{1}, nil, Reshape(cols, rows, b*oh*ow), []int{0}, nil) // [Cout, B*H'*W']
	return Reshape(out, cout, b, oh, ow)
}

// layout names the axes of a 4-D activation: nhwc [B,H,W,C] (the training graph's) or cbhw [C,B,H,W]
// (channels first, the inference graph's).
type layout struct{ batch, h, w, c int }

var (
	nhwc = layout{batch: 0, h: 1, w: 2, c: 3}
	cbhw = layout{batch: 1, h: 2, w: 3, c: 0}
)

// spatialSlice slices x along its row and column axes (the others whole).
func (l layout) spatialSlice(x *Node, rows, cols SliceAxisSpec) *Node {
	spec := []SliceAxisSpec{AxisRange(), AxisRange(), AxisRange(), AxisRange()}
	spec[l.h], spec[l.w] = rows, cols
	return Slice(x, spec...)
}

// im2colViews returns the K*K shifted views of the padded x (layout l; ordered (dy,dx), each shaped like x
// with H' x W' positions; x itself, subsampled for a stride, when K is 1) that im2col concatenates along the
// channels, and the output size H' x W'.
func im2colViews(x, kernel *Node, stride int, padding string, l layout) (views []*Node, oh, ow int) {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("Im2ColConv: x %s must be rank 4 and kernel %s [K,K,Cin,Cout]", x.Shape(), kernel.Shape())
	}
	kdims := kernel.Shape().Dimensions
	k, cin := kdims[0], kdims[2]
	if kdims[1] != k || k%2 != 1 || x.Shape().Dimensions[l.c] != cin || stride < 1 {
		exceptions.Panicf("Im2ColConv: unsupported x %s, kernel %s, stride %d", x.Shape(), kernel.Shape(), stride)
	}
	dims := x.Shape().Dimensions
	h, w := dims[l.h], dims[l.w]
	oh, ow = outSide(h, stride), outSide(w, stride)
	if k == 1 {
		if stride > 1 {
			x = subsample(x, stride, l)
		}
		return []*Node{x}, oh, ow
	}
	pad := (k - 1) / 2
	xp := zeroPad(x, pad, l)
	if padding == PadReflect {
		xp = reflectPad(x, pad, l)
	}
	views = make([]*Node, 0, k*k+1)
	for dy := range k {
		for dx := range k {
			if stride == 1 {
				views = append(views, l.spatialSlice(xp, AxisRange(dy, dy+oh), AxisRange(dx, dx+ow)))
				continue
			}
			views = append(views, l.spatialSlice(xp,
				AxisRange(dy, dy+(oh-1)*stride+1).Stride(stride),
				AxisRange(dx, dx+(ow-1)*stride+1).Stride(stride)))
		}
	}
	return views, oh, ow
}

// outSide is the output side of a "same"-padded convolution of side n with the given stride.
func outSide(n, stride int) int { return (n + stride - 1) / stride }

// subsample takes every stride-th row and column (the sampling of a 1x1 strided convolution).
func subsample(x *Node, stride int, l layout) *Node {
	dims := x.Shape().Dimensions
	oh, ow := outSide(dims[l.h], stride), outSide(dims[l.w], stride)
	return l.spatialSlice(x, AxisRange(0, (oh-1)*stride+1).Stride(stride), AxisRange(0, (ow-1)*stride+1).Stride(stride))
}

// zeroPad pads the row and column axes of x (layout l) with p zeros on each side using Concatenate.
func zeroPad(x *Node, p int, l layout) *Node {
	if p == 0 {
		return x
	}
	for _, axis := range []int{l.h, l.w} {
		d := slices.Clone(x.Shape().Dimensions)
		d[axis] = p
		z := Zeros(x.Graph(), shapes.Make(x.DType(), d...))
		x = Concatenate([]*Node{z, x, z}, axis)
	}
	return x
}

// reflectPad mirrors p rows and columns at each edge of x (layout l; edge not repeated: row -1 reads row
// 1), built from single-row slices and Concatenate since Pad has no gradient on the Go backend.
func reflectPad(x *Node, p int, l layout) *Node {
	if p == 0 {
		return x
	}
	for _, axis := range []int{l.h, l.w} {
		n := x.Shape().Dimensions[axis]
		if p >= n {
			exceptions.Panicf("reflectPad: pad %d needs a side > %d, got %s", p, p, x.Shape())
		}
		line := func(i int) *Node {
			spec := []SliceAxisSpec{AxisRange(), AxisRange(), AxisRange(), AxisRange()}
			spec[axis] = AxisRange(i, i+1)
			return Slice(x, spec...)
		}
		parts := make([]*Node, 0, n+2*p)
		for i := p; i >= 1; i-- {
			parts = append(parts, line(i))
		}
		parts = append(parts, x)
		for i := n - 2; i >= n-1-p; i-- {
			parts = append(parts, line(i))
		}
		x = Concatenate(parts, axis)
	}
	return x
}
