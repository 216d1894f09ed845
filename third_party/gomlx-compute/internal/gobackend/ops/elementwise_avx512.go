//go:build amd64 && goexperiment.simd

package ops

// Not upstream: part of neucam's patch of compute v0.1.2 (third_party/gomlx-compute/FORK.md).
//
// AVX-512 loops (16 float32 lanes) for the float32 element-wise ops Add, Sub, Mul, Max, Min with operands of
// the same shape, one scalar (size-1) operand, or operands broadcast on outer axes only, and for Sign. They compute exactly what the generic loops of
// gen_exec_binary.go and unaryops.go compute, bit for bit: Add/Sub/Mul are the same IEEE operations lane by
// lane; Max/Min reproduce the instruction sequence the Go compiler emits for the builtins on amd64 (NaN and
// -0/+0 included); Sign gives -1, +1 or +0 (for 0, -0 and NaN) as the generic switch does. Other dtypes,
// broadcasting operands and non-AVX-512 CPUs keep the generic executors; the last <16 elements of a run use
// the generic scalar expressions.

import (
	"simd/archsimd"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/compute/support/envutil"
)

func init() {
	if !envutil.MustReadBool(envutil.SIMD_AVX512_Env, true) || !archsimd.X86.AVX512() {
		return
	}
	for _, k := range []*binaryF32Kernels{&addF32Kernels, &subF32Kernels, &mulF32Kernels, &maxF32Kernels, &minF32Kernels} {
		gobackend.SetNodeExecutor(k.opType, gobackend.PriorityArch, k.exec)
	}
	gobackend.SetNodeExecutor(compute.OpTypeSign, gobackend.PriorityArch, execSignAVX512)
}

// binaryF32Kernels are the float32 loops of one binary op; the generic executor does everything else.
type binaryF32Kernels struct {
	opType      compute.OpType
	commutative bool                                            // the generic executor makes the scalar the rhs
	same        func(out, a, b []float32)                       // same shapes: out[i] = a[i] op b[i]
	scalarRHS   func(out, a []float32, c float32)               // out[i] = a[i] op c
	scalarLHS   func(out, b []float32, c float32)               // out[i] = c op b[i]; nil: the generic loop decides
	generic     func(a, b, out []float32, _, _, _ shapes.Shape) // broadcasting: the generic loop
	fallback    gobackend.NodeExecutor                          // other dtypes
}

// exec follows the generic executors' case order (scalar rhs, [scalar lhs,] same shape, broadcast), with
// broadcastRows before the generic broadcast loop.
//
// A NaN scalar operand of Add or Mul goes to the generic loop: which NaN x+NaN returns when x is a NaN too
// depends on the operand order the compiler picks for these commutative instructions, and it picks one order
// in the generic scalar loop and the other in the AVX-512 one. (In the same-shape loops both pick lhs's NaN;
// TestElementwiseMatchesReference in gradcam/resnet checks NaN payloads bit for bit.)
func (k *binaryF32Kernels) exec(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer,
	inputsOwned []bool) (*gobackend.Buffer, error) {
	if inputs[0].RawShape.DType != dtypes.Float32 {
		return k.fallback(backend, node, inputs, inputsOwned)
	}
	lhs, rhs, output, lhsIsScalarOr1, rhsIsScalarOr1 := binaryOperandsAndOutputForExecution(
		backend, node, inputs, inputsOwned, node.Shape)
	if k.commutative && lhsIsScalarOr1 && !rhsIsScalarOr1 {
		lhs, rhs = rhs, lhs
	}
	a, b, out := lhs.Flat.([]float32), rhs.Flat.([]float32), output.Flat.([]float32)
	switch {
	case len(b) == 1 && (b[0] == b[0] || !k.commutative):
		k.scalarRHS(out, a, b[0])
	case len(a) == 1 && k.scalarLHS != nil:
		k.scalarLHS(out, b, a[0])
	case lhs.RawShape.Equal(rhs.RawShape):
		k.same(out, a, b)
	case !k.broadcastRows(out, a, b, output.RawShape, lhs.RawShape, rhs.RawShape):
		k.generic(a, b, out, lhs.RawShape, rhs.RawShape, output.RawShape)
	}
	return output, nil
}

// broadcastRows runs the same-shape loop row by row when both operands have the output's innermost axis (of 16
// or more elements) and broadcast only outer axes (e.g. [8,1,1,128] + [8,16,16,128]); it returns false, and
// does nothing, otherwise.
func (k *binaryF32Kernels) broadcastRows(out, a, b []float32, outShape, aShape, bShape shapes.Shape) bool {
	rank := outShape.Rank()
	if rank == 0 || aShape.Rank() != rank || bShape.Rank() != rank {
		return false
	}
	dims, n := outShape.Dimensions, outShape.Dimensions[rank-1]
	if n < 16 || aShape.Dimensions[rank-1] != n || bShape.Dimensions[rank-1] != n {
		return false
	}
	aStrides, bStrides := broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)
	idx := make([]int, rank-1)
	ai, bi := 0, 0
	for o := 0; o < len(out); o += n {
		k.same(out[o:o+n], a[ai:ai+n], b[bi:bi+n])
		for axis := rank - 2; axis >= 0; axis-- {
			idx[axis]++
			if idx[axis] < dims[axis] {
				ai, bi = ai+aStrides[axis], bi+bStrides[axis]
				break
			}
			ai, bi = ai-(dims[axis]-1)*aStrides[axis], bi-(dims[axis]-1)*bStrides[axis]
			idx[axis] = 0
		}
	}
	return true
}

// broadcastStrides are operand's row-major strides, 0 on the axes it broadcasts (size 1 in operand only).
func broadcastStrides(operand, output shapes.Shape) []int {
	strides := operand.Strides()
	for axis, d := range operand.Dimensions {
		if d == 1 && output.Dimensions[axis] != 1 {
			strides[axis] = 0
		}
	}
	return strides
}

var (
	addF32Kernels = binaryF32Kernels{compute.OpTypeAdd, true, addF32, addScalarF32, nil,
		execAddNumericGeneric[float32], execAdd}
	subF32Kernels = binaryF32Kernels{compute.OpTypeSub, false, subF32, subScalarF32, scalarSubF32,
		execSubNumericGeneric[float32], execSub}
	mulF32Kernels = binaryF32Kernels{compute.OpTypeMul, true, mulF32, mulScalarF32, nil,
		execMulNumericGeneric[float32], execMul}
	maxF32Kernels = binaryF32Kernels{compute.OpTypeMax, true, maxF32, maxScalarF32, nil,
		execMaxNumericGeneric[float32], execMax}
	minF32Kernels = binaryF32Kernels{compute.OpTypeMin, true, minF32, minScalarF32, nil,
		execMinNumericGeneric[float32], execMin}
)

// clearUpperNote: every AVX-512 loop here ends with archsimd.ClearAVXUpperBits (VZEROUPPER), which the Go
// compiler does not emit itself. Without it the scalar float code that follows (the loops' tails, and any Go
// code until the next VZEROUPPER) ran with the upper register state dirty: measured on this project's Xeon, a
// row of 32 stride-2 moves (one AVX-512 permute, 16 scalar) took ~180 ns instead of ~15 (docs/BENCH.md).

// load16 and store16 access s[i:i+16] (the caller guarantees i+16 <= len(s)).
func load16(s []float32, i int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(s[i : i+16]))
}

func store16(v archsimd.Float32x16, s []float32, i int) { v.Store((*[16]float32)(s[i : i+16])) }

func addF32(out, a, b []float32) {
	n := len(a)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(load16(a, i).Add(load16(b, i)), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = a[i] + b[i]
	}
}

func addScalarF32(out, a []float32, c float32) {
	n, cv := len(a), archsimd.BroadcastFloat32x16(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(load16(a, i).Add(cv), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = a[i] + c
	}
}

func subF32(out, a, b []float32) {
	n := len(a)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(load16(a, i).Sub(load16(b, i)), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = a[i] - b[i]
	}
}

func subScalarF32(out, a []float32, c float32) {
	n, cv := len(a), archsimd.BroadcastFloat32x16(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(load16(a, i).Sub(cv), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = a[i] - c
	}
}

func scalarSubF32(out, b []float32, c float32) {
	n, cv := len(b), archsimd.BroadcastFloat32x16(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(cv.Sub(load16(b, i)), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = c - b[i]
	}
}

func mulF32(out, a, b []float32) {
	n := len(a)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(load16(a, i).Mul(load16(b, i)), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = a[i] * b[i]
	}
}

func mulScalarF32(out, a []float32, c float32) {
	n, cv := len(a), archsimd.BroadcastFloat32x16(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(load16(a, i).Mul(cv), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = a[i] * c
	}
}

// goMin16 is Go's min(x, y) for float32 lane by lane, as the amd64 compiler emits the builtin:
// m := MINSS(x, y); result = MINSS(m, x) | m (bitwise), where MINSS(a, b) = a < b ? a : b (b when unordered or
// equal). This makes min(-0, +0) = -0 and any NaN operand give a NaN.
func goMin16(x, y archsimd.Float32x16) archsimd.Float32x16 {
	m := x.Merge(y, x.Less(y))
	m2 := m.Merge(x, m.Less(x))
	return m.AsInt32x16().Or(m2.AsInt32x16()).AsFloat32x16()
}

// goMax16 is Go's max(x, y) for float32 lane by lane: on amd64 the compiler emits -min(-x, -y), the negations
// flipping the sign bit (NaNs included).
func goMax16(x, y archsimd.Float32x16) archsimd.Float32x16 {
	sign := archsimd.BroadcastInt32x16(-1 << 31)
	neg := func(v archsimd.Float32x16) archsimd.Float32x16 { return v.AsInt32x16().Xor(sign).AsFloat32x16() }
	return neg(goMin16(neg(x), neg(y)))
}

func maxF32(out, a, b []float32) {
	n := len(a)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(goMax16(load16(a, i), load16(b, i)), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = max(a[i], b[i])
	}
}

func maxScalarF32(out, a []float32, c float32) {
	n, cv := len(a), archsimd.BroadcastFloat32x16(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(goMax16(load16(a, i), cv), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = max(a[i], c)
	}
}

func minF32(out, a, b []float32) {
	n := len(a)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(goMin16(load16(a, i), load16(b, i)), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = min(a[i], b[i])
	}
}

func minScalarF32(out, a []float32, c float32) {
	n, cv := len(a), archsimd.BroadcastFloat32x16(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		store16(goMin16(load16(a, i), cv), out, i)
	}
	archsimd.ClearAVXUpperBits() // before scalar (SSE) code: see clearUpperNote
	for ; i < n; i++ {
		out[i] = min(a[i], c)
	}
}

// execSignAVX512 is execSign with a branch-free float32 loop (ReLU's gradient takes the Sign of random-signed
// values, where the generic switch mispredicts).
func execSignAVX512(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer,
	inputsOwned []bool) (*gobackend.Buffer, error) {
	if inputs[0].RawShape.DType != dtypes.Float32 {
		return execSign(backend, node, inputs, inputsOwned)
	}
	input, output, err := unaryOperandAndOutput(backend, inputs, inputsOwned)
	if err != nil {
		return nil, err
	}
	signF32(output.Flat.([]float32), input.Flat.([]float32))
	return output, nil
}

// signF32: -1 where x < 0, +1 where x > 0, +0 elsewhere (0, -0, NaN), as execSignGeneric.
func signF32(out, a []float32) {
	n := len(a)
	one, minusOne := archsimd.BroadcastFloat32x16(1), archsimd.BroadcastFloat32x16(-1)
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= n; i += 16 {
		x := load16(a, i)
		store16(minusOne.Merge(one.Masked(x.Greater(zero)), x.Less(zero)), out, i)
	}
	archsimd.ClearAVXUpperBits()
	execSignGeneric(a[i:], out[i:n])
}
