"""SIMD vectors of ``LANES`` floats for numba kernels, as explicit LLVM vector values.

numba runs LLVM's loop vectoriser but not its SLP vectoriser (``NUMBA_SLP_VECTORIZE`` is off
by default), so straight-line code over a short fixed number of lanes stays scalar, and a loop
vectorised over a short trip count pays a large fixed cost per loop. These intrinsics give a
numba type whose LLVM representation is ``<LANES x float>`` (or ``double``): loads, stores and
arithmetic on it become single AVX instructions, and a kernel keeps a tile of them in
registers (see :mod:`sim.backends.numba`, runs in lanes).

Every operation is lane-wise IEEE arithmetic (no fast-math, no FMA contraction), so lane l of
a result is bit-identical to the same scalar expression on lane l of the operands: a value's
lane never changes what is computed for it.

Offsets are flat element indices into a C-contiguous array (``arr.flat[offset:offset+LANES]``);
they are not bounds-checked.
"""

from __future__ import annotations

import operator

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

LANES = 8  # one AVX2 register of float32 (two of float64)


class LaneVector(types.Type):
    """LANES values of ``dtype`` (float32 or float64) in one LLVM vector."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"LaneVector({dtype})")


@register_model(LaneVector)
class _LaneVectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(dmm.lookup(fe_type.dtype).get_value_type(), LANES))


def _element_pointer(context, builder, arrty, arr, offsetty, offset):
    data = context.make_array(arrty)(context, builder, arr).data
    return builder.gep(data, [context.cast(builder, offset, offsetty, types.intp)])


def _is_float_array(arr) -> bool:
    return isinstance(arr, types.Array) and arr.layout == "C" and arr.dtype in (types.float32, types.float64)


@intrinsic
def vload(typingctx, arr, offset):
    """The vector arr.flat[offset:offset + LANES] (unaligned load)."""
    if not (_is_float_array(arr) and isinstance(offset, types.Integer)):
        return None
    vector = LaneVector(arr.dtype)

    def codegen(context, builder, sig, args):
        llvector = context.get_value_type(vector)
        pointer = _element_pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        return builder.load(builder.bitcast(pointer, llvector.as_pointer()),
                            align=context.get_abi_sizeof(llvector.element))

    return vector(arr, offset), codegen


@intrinsic
def vstore(typingctx, arr, offset, value):
    """arr.flat[offset:offset + LANES] = value (unaligned store)."""
    if not (_is_float_array(arr) and isinstance(offset, types.Integer) and isinstance(value, LaneVector)
            and value.dtype == arr.dtype):
        return None

    def codegen(context, builder, sig, args):
        llvector = context.get_value_type(sig.args[2])
        pointer = _element_pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        builder.store(args[2], builder.bitcast(pointer, llvector.as_pointer()),
                      align=context.get_abi_sizeof(llvector.element))
        return context.get_dummy_value()

    return types.void(arr, offset, value), codegen


@intrinsic
def vsplat(typingctx, value, like):
    """A vector with every lane = value, of the type of ``like``."""
    if not (isinstance(like, LaneVector) and isinstance(value, (types.Float, types.Integer))):
        return None

    def codegen(context, builder, sig, args):
        llvector = context.get_value_type(like)
        scalar = context.cast(builder, args[0], sig.args[0], like.dtype)
        one = builder.insert_element(ir.Constant(llvector, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        return builder.shuffle_vector(one, ir.Constant(llvector, ir.Undefined), mask)

    return like(value, like), codegen


def _binary(instruction: str):
    @intrinsic
    def vector_op(typingctx, a, b):
        if not (isinstance(a, LaneVector) and a == b):
            return None

        def codegen(context, builder, sig, args):
            return getattr(builder, instruction)(args[0], args[1])

        return a(a, b), codegen

    return vector_op


vadd = _binary("fadd")
vsub = _binary("fsub")
vmul = _binary("fmul")


@intrinsic
def vrelu(typingctx, a):
    """a if a > 0 else 0, per lane (NaN gives 0, as the scalar ``v if v > 0 else 0``)."""
    if not isinstance(a, LaneVector):
        return None

    def codegen(context, builder, sig, args):
        zero = ir.Constant(args[0].type, None)
        return builder.select(builder.fcmp_ordered(">", args[0], zero), args[0], zero)

    return a(a), codegen


@intrinsic
def vwhere_positive(typingctx, condition, a):
    """a if condition > 0 else 0, per lane."""
    if not (isinstance(a, LaneVector) and a == condition):
        return None

    def codegen(context, builder, sig, args):
        zero = ir.Constant(args[1].type, None)
        return builder.select(builder.fcmp_ordered(">", args[0], zero), args[1], zero)

    return a(condition, a), codegen


def _operator(vector_op):
    def typed(a, b):
        if isinstance(a, LaneVector) and a == b:
            return lambda a, b: vector_op(a, b)
        return None

    return typed


for _python_op, _vector_op in ((operator.add, vadd), (operator.sub, vsub), (operator.mul, vmul)):
    overload(_python_op)(_operator(_vector_op))


@intrinsic
def transpose_i8_to_lanes(typingctx, src, start, stride, dst, out):
    """Lane l of dst.flat[out + t LANES : ... + LANES] = src.flat[start + l stride + t], for
    t, l < LANES: an 8 x 8 int8 transpose (LANES rows of src, e.g. the minibatches of LANES
    consecutive runs) converted to floats, done with vector shuffles instead of 64 scalar moves."""
    if not (isinstance(src, types.Array) and src.dtype == types.int8 and src.layout == "C"
            and _is_float_array(dst) and all(isinstance(t, types.Integer) for t in (start, stride, out))):
        return None

    def codegen(context, builder, sig, args):
        srcty, startty, stridety, dstty, outty = sig.args
        bytes8 = ir.VectorType(ir.IntType(8), LANES)
        i32 = ir.IntType(32)
        start_ = context.cast(builder, args[1], startty, types.intp)
        stride_ = context.cast(builder, args[2], stridety, types.intp)
        rows = []
        for lane in range(LANES):
            offset = builder.add(start_, builder.mul(stride_, ir.Constant(start_.type, lane)))
            pointer = _element_pointer(context, builder, srcty, args[0], types.intp, offset)
            rows.append(builder.load(builder.bitcast(pointer, bytes8.as_pointer()), align=1))
        while len(rows) > 1:  # concatenate: all[l LANES + t] = row_l[t]
            size = 2 * rows[0].type.count
            mask = ir.Constant(ir.VectorType(i32, size), list(range(size)))
            rows = [builder.shuffle_vector(rows[k], rows[k + 1], mask) for k in range(0, len(rows), 2)]
        everything = rows[0]
        undefined = ir.Constant(everything.type, ir.Undefined)
        transposed = builder.shuffle_vector(everything, undefined, ir.Constant(
            ir.VectorType(i32, LANES * LANES), [lane * LANES + t for t in range(LANES) for lane in range(LANES)]))
        llvector = context.get_value_type(LaneVector(dstty.dtype))
        out_ = context.cast(builder, args[4], outty, types.intp)
        for t in range(LANES):
            row = builder.shuffle_vector(transposed, undefined, ir.Constant(
                ir.VectorType(i32, LANES), list(range(t * LANES, (t + 1) * LANES))))
            offset = builder.add(out_, ir.Constant(out_.type, t * LANES))
            pointer = _element_pointer(context, builder, dstty, args[3], types.intp, offset)
            builder.store(builder.sitofp(row, llvector), builder.bitcast(pointer, llvector.as_pointer()),
                          align=context.get_abi_sizeof(llvector.element))
        return context.get_dummy_value()

    return types.void(src, start, stride, dst, out), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    """a * b + c per lane, rounded once (llvm.fma: exact IEEE fused multiply-add, the same
    result on every machine; one instruction where the CPU has FMA3, as every x86-64 since 2013)."""
    if not (isinstance(a, LaneVector) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        llvector = args[0].type
        suffix = f"v{LANES}f{'32' if a.dtype == types.float32 else '64'}"
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(llvector, [llvector] * 3),
                                             f"llvm.fma.{suffix}")
        return builder.call(fma, list(args))

    return a(a, b, c), codegen
