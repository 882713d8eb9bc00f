"""Does ``torch.compile`` make a GD step faster than the engine's eager step?

    python -m benchmarks.compiled_gd [--threads N] [--steps S]

One GD step of the engine (``_network.forward`` and ``backward`` with samples in
columns, the update of ``_gradient_descent``) on gauss-f2 shapes (n = 3200,
d = 20, depth 4, ReLU, float32) at the widths such a fit passes through, timed
three ways: the engine's own window of steps (``_gradient_descent.run_window``, 100
steps and their loss), the same step function eagerly, and that function
compiled by ``torch.compile(dynamic=True)`` (TorchInductor: C++ kernels built with
the machine's compiler). The compile time of the first call, and of the first call
at other widths, is reported separately: a fit changes widths at every iteration.
"""

import argparse
import time

import torch

from skneuronpursuit._kernels.activation import HomogeneousActivation
from skneuronpursuit._kernels.gradient_descent import lay_out, run_window
from skneuronpursuit._kernels.network import backward, forward

from .threads import add_threads_option, apply_threads

N_SAMPLES, N_FEATURES = 3200, 20
WIDTHS = [(5, 2, 1), (10, 3, 2), (18, 14, 1), (23, 5, 5), (40, 10, 5)]
RELU = HomogeneousActivation(1, 0.0)


def gd_step(W1, W2, W3, W4, X, Y, scale, step_size):
    """One step of ``_gradient_descent.run_window``, as a function of tensors only."""
    weights = [W1, W2, W3, W4]
    pre_activations, layer_inputs = forward(weights, X, RELU, columns=True)
    residual = pre_activations[-1] - Y
    loss = residual.square().sum() / (2 * X.shape[1])
    _, grads = backward(
        weights, pre_activations, layer_inputs, scale * residual, RELU, columns=True
    )
    return [w - step_size * g for w, g in zip(weights, grads)], loss


def _network(widths, generator):
    sizes = [N_FEATURES, *widths, 1]
    return [
        0.3 * torch.randn(sizes[i + 1], sizes[i], generator=generator)
        for i in range(len(sizes) - 1)
    ]


def _per_step_us(step, weights, X, Y, scale, n_steps):
    for _ in range(5):
        weights, _ = step(*weights, X, Y, scale, 1e-5)
    started = time.perf_counter()
    for _ in range(n_steps):
        weights, loss = step(*weights, X, Y, scale, 1e-5)
    float(loss)
    return (time.perf_counter() - started) / n_steps * 1e6


def _chunk_us(weights, data, n_steps, chunk=100):
    weights = [w.clone() for w in weights]
    run_window(weights, data, RELU, 1e-5, chunk)
    n_chunks = max(n_steps // chunk, 1)
    started = time.perf_counter()
    for _ in range(n_chunks):
        run_window(weights, data, RELU, 1e-5, chunk)
    return (time.perf_counter() - started) / (n_chunks * chunk) * 1e6


def compare(widths_list=WIDTHS, n_steps=500):
    """Yield ``(widths, engine us, eager us, compiled us, first compiled call s)``."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(N_SAMPLES, N_FEATURES, generator=generator)
    Y = torch.randn(N_SAMPLES, 1, generator=generator)
    data = lay_out(X, Y, torch.ones(N_SAMPLES))
    scale = torch.tensor(1.0 / N_SAMPLES)
    compiled = torch.compile(gd_step, dynamic=True)
    for widths in widths_list:
        weights = _network(widths, generator)
        started = time.perf_counter()
        compiled(*weights, data.X, data.Y, scale, 1e-5)
        first_call = time.perf_counter() - started
        engine = _chunk_us(weights, data, n_steps)
        eager = _per_step_us(gd_step, weights, data.X, data.Y, scale, n_steps)
        fused = _per_step_us(compiled, weights, data.X, data.Y, scale, n_steps)
        yield widths, engine, eager, fused, first_call


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compiled_gd", description=__doc__)
    add_threads_option(parser)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    threads = apply_threads(args)
    print(f"torch {torch.__version__}, threads {threads}, us per GD step")
    print("| widths | engine chunk | eager step | compiled step | first compiled call s |")
    print("|---|---|---|---|---|")
    for widths, engine, eager, fused, first_call in compare(n_steps=args.steps):
        print(f"| {widths} | {engine:.0f} | {eager:.0f} | {fused:.0f} | {first_call:.1f} |")


if __name__ == "__main__":
    main()
