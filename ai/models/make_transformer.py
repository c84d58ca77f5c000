#!/usr/bin/python3
"""Builds the XairrosX test transformer: a 2-layer pre-LayerNorm encoder
(sequence length 128, width 256, 4 attention heads, feed-forward 1024, GELU
written with Erf) as an ONNX opset-17 model with fixed pseudo-random
weights (numpy RandomState(20261125)).

Needs Debian's python3-onnx and python3-numpy (scripts/deps-ai.sh installs
them); run with the system Python:

    /usr/bin/python3 ai/models/make_transformer.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEQ, WIDTH, HEADS, FF, LAYERS = 128, 256, 4, 1024, 2
HEAD = WIDTH // HEADS
rng = np.random.RandomState(20261125)
nodes, inits = [], []


def const(name, arr):
    inits.append(numpy_helper.from_array(np.asarray(arr), name))
    return name


def weight(name, *shape, scale=None):
    scale = scale if scale is not None else 1.0 / np.sqrt(shape[0])
    return const(name, (rng.standard_normal(shape) * scale).astype(np.float32))


def node(op, inputs, name, **attrs):
    nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
    return name


def linear(x, prefix, n_in, n_out):
    w = weight(prefix + ".w", n_in, n_out)
    b = const(prefix + ".b", (rng.standard_normal(n_out) * 0.02).astype(np.float32))
    return node("Add", [node("MatMul", [x, w], prefix + ".mm"), b], prefix + ".out")


def layernorm(x, prefix):
    g = const(prefix + ".g", (1 + 0.1 * rng.standard_normal(WIDTH)).astype(np.float32))
    b = const(prefix + ".b", (0.1 * rng.standard_normal(WIDTH)).astype(np.float32))
    return node("LayerNormalization", [x, g, b], prefix + ".out", axis=-1, epsilon=1e-5)


split_shape = const("shape.split", np.array([0, SEQ, HEADS, HEAD], dtype=np.int64))
merge_shape = const("shape.merge", np.array([0, SEQ, WIDTH], dtype=np.int64))
scale = const("attn.scale", np.array(1.0 / np.sqrt(HEAD), dtype=np.float32))
half = const("gelu.half", np.array(0.5, dtype=np.float32))
one = const("gelu.one", np.array(1.0, dtype=np.float32))
sqrt2 = const("gelu.sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))

x = "x"
for l in range(LAYERS):
    p = "l%d" % l
    h = layernorm(x, p + ".ln1")
    q = node("Transpose", [node("Reshape", [linear(h, p + ".q", WIDTH, WIDTH), split_shape], p + ".q.split")],
             p + ".q.heads", perm=[0, 2, 1, 3])
    k = node("Transpose", [node("Reshape", [linear(h, p + ".k", WIDTH, WIDTH), split_shape], p + ".k.split")],
             p + ".k.heads", perm=[0, 2, 3, 1])
    v = node("Transpose", [node("Reshape", [linear(h, p + ".v", WIDTH, WIDTH), split_shape], p + ".v.split")],
             p + ".v.heads", perm=[0, 2, 1, 3])
    scores = node("Mul", [node("MatMul", [q, k], p + ".scores.raw"), scale], p + ".scores")
    probs = node("Softmax", [scores], p + ".probs", axis=-1)
    ctx = node("MatMul", [probs, v], p + ".ctx")
    ctx = node("Reshape", [node("Transpose", [ctx], p + ".ctx.t", perm=[0, 2, 1, 3]), merge_shape], p + ".ctx.merged")
    x = node("Add", [x, linear(ctx, p + ".o", WIDTH, WIDTH)], p + ".res1")
    h = layernorm(x, p + ".ln2")
    f = linear(h, p + ".ff1", WIDTH, FF)
    erf = node("Erf", [node("Div", [f, sqrt2], p + ".gelu.div")], p + ".gelu.erf")
    gelu = node("Mul", [node("Mul", [f, node("Add", [erf, one], p + ".gelu.add")], p + ".gelu.mul"), half], p + ".gelu")
    x = node("Add", [x, linear(gelu, p + ".ff2", FF, WIDTH)], p + ".res2")
y = layernorm(x, "final")
nodes.append(helper.make_node("Identity", [y], ["y"], name="output"))

graph = helper.make_graph(
    nodes, "xairrosx_transformer",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", SEQ, WIDTH])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", SEQ, WIDTH])],
    initializer=inits)
model = helper.make_model(graph, producer_name="xairrosx-make_transformer", opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
print("%s: %d nodes, %d parameters" % (sys.argv[1], len(nodes), sum(int(np.prod(t.dims)) for t in inits)))
