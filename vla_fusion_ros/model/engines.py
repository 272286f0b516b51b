# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Inference engines: one batch-1 forward pass of a :class:`FusionModel`, run four ways.

Every engine maps one uint8 RGB frame ``[H, W, 3]`` (already resized), token ids and a mask
``[1, T]`` to float32 actions ``[chunk, action_dim]`` in physical units, so it replaces the
whole of ``VLAPolicy.predict`` after tokenisation:

- ``torch``: eager PyTorch under ``inference_mode`` (the reference; fp16 on CUDA on request);
- ``torchscript``: ``torch.jit.trace``, frozen and optimised for inference;
- ``compile``: ``torch.compile`` (Inductor; minutes of compilation on a small CPU);
- ``onnxruntime``: the model exported to ONNX (uint8 to float conversion included in the
  graph) and run by ONNX Runtime's CPU provider, when ``onnxruntime`` and ``onnx`` are
  installed.

``auto`` picks, on the CPU, ``onnxruntime`` if it is installed, else ``torchscript``; on CUDA,
``torch``. Every engine but ``torch`` is built, then checked against eager PyTorch on probe
inputs; a mismatch is an :class:`EngineError` (``auto`` then falls back to the next choice).
Engines are snapshots: weights changed after :func:`build_engine` are not seen.
"""

import contextlib
import io
import time
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

BACKENDS = ('auto', 'torch', 'torchscript', 'compile', 'onnxruntime')
PRECISIONS = ('fp32', 'fp16')
#: Largest |difference| from eager PyTorch (normalised action units) an engine may show.
TOLERANCE = 1e-4


class EngineError(RuntimeError):
    """An engine cannot be built here, or disagrees with eager PyTorch."""


def onnxruntime_available() -> bool:
    """Return whether ONNX Runtime and the ONNX exporter's ``onnx`` package can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def auto_backends(device: torch.device) -> List[str]:
    """Return the engines ``auto`` tries on ``device``, best first."""
    if device.type != 'cpu':
        return ['torch']
    return (['onnxruntime'] if onnxruntime_available() else []) + ['torchscript', 'torch']


class _FrameGraph(nn.Module):
    """The whole prediction as one graph: uint8 NHWC frame -> physical actions."""

    def __init__(self, model: nn.Module, scale: torch.Tensor, dtype: torch.dtype):
        super().__init__()
        self.model = model
        self.dtype = dtype
        self.register_buffer('scale', scale.to(dtype))

    def forward(self, frames: torch.Tensor, ids: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """Map uint8 frames [B, H, W, 3], ids and mask [B, T] to actions [B, chunk, A]."""
        images = frames.permute(0, 3, 1, 2).to(self.dtype).div(255.0)  # [B, 3, H, W]
        return self.model(images, ids, mask) * self.scale


class Engine:
    """A built engine: ``engine(frame, ids, mask) -> actions``; ``name`` says which."""

    def __init__(self, name: str, run: Callable, build_seconds: float = 0.0):
        self.name = name
        self._run = run
        self.build_seconds = build_seconds
        self.max_difference = 0.0

    def __call__(self, frame: np.ndarray, ids: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
        """Return float32 actions [chunk, action_dim] for one uint8 frame [H, W, 3]."""
        return self._run(frame, ids, mask)


def _torch_runner(graph: Callable, device: torch.device) -> Callable:
    def run(frame, ids, mask):
        frames = torch.from_numpy(np.ascontiguousarray(frame)[None]).to(device)  # [1, H, W, 3]
        with torch.inference_mode():
            return graph(frames, ids, mask)[0].float().cpu().numpy()
    return run


@contextlib.contextmanager
def _constant_coordinates():
    """
    Make the coordinate grids of the CNN encoder and the head constants while exporting.

    The ONNX exporter turns ``torch.linspace``/``arange`` on float dtypes into float64
    subgraphs that ONNX Runtime then refuses; for a fixed input size the grids are constants
    anyway, so they are computed with numpy (the tracer embeds them as initializers).
    """
    from . import heads, vision
    saved = vision.coord_channels, heads.token_coords

    def coord_channels(x):
        batch, _, height, width = (int(v) for v in x.shape)
        ys, xs = np.meshgrid(np.linspace(-1.0, 1.0, height, dtype=np.float32),
                             np.linspace(-1.0, 1.0, width, dtype=np.float32), indexing='ij')
        grid = torch.from_numpy(np.stack([xs, ys])[None]).to(x.dtype)  # [1, 2, H, W]
        return grid.expand(batch, 2, height, width)

    def token_coords(grid, like):
        h, w = int(grid[0]), int(grid[1])
        ys, xs = np.meshgrid((np.arange(h, dtype=np.float32) + 0.5) * (2.0 / h) - 1.0,
                             (np.arange(w, dtype=np.float32) + 0.5) * (2.0 / w) - 1.0,
                             indexing='ij')
        return torch.from_numpy(np.stack([xs.reshape(-1), ys.reshape(-1)], -1)).to(like.dtype)

    vision.coord_channels, heads.token_coords = coord_channels, token_coords
    try:
        yield
    finally:
        vision.coord_channels, heads.token_coords = saved


def _onnxruntime_runner(graph: nn.Module, example: Tuple, threads: int) -> Callable:
    import warnings

    import onnxruntime as ort
    buffer = io.BytesIO()
    with _constant_coordinates(), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')  # tracer warnings about the constant grids
        torch.onnx.export(graph, example, buffer, dynamo=False, opset_version=17,
                          input_names=['frames', 'ids', 'mask'], output_names=['actions'])
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads sleep instead of spinning: the node shares its cores with others.
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    session = ort.InferenceSession(buffer.getvalue(), options,
                                   providers=['CPUExecutionProvider'])

    names = {i.name for i in session.get_inputs()}  # vision_only models drop ids and mask

    def run(frame, ids, mask):
        feed = {'frames': np.ascontiguousarray(frame)[None]}
        if 'ids' in names:
            feed['ids'], feed['mask'] = ids.numpy(), mask.numpy()
        return session.run(None, feed)[0][0]
    return run


def build_engine(name: str, model: nn.Module, scale: torch.Tensor, image_size: Tuple[int, int],
                 ids: torch.Tensor, mask: torch.Tensor, device: torch.device,
                 threads: Optional[int] = None, precision: str = 'fp32') -> Engine:
    """
    Build engine ``name`` (not ``auto``) for ``model`` in eval mode, and check it.

    ``ids``/``mask`` ([1, T]) are an example instruction; ``threads`` (default: torch's
    intra-op threads) sets ONNX Runtime's thread pool. ``precision='fp16'`` needs CUDA.
    """
    if name not in BACKENDS or name == 'auto':
        raise EngineError(f'backend {name!r} is unknown (valid: {", ".join(BACKENDS[1:])})')
    if precision not in PRECISIONS:
        raise EngineError(f'precision {precision!r} is unknown (valid: {", ".join(PRECISIONS)})')
    if precision == 'fp16' and (device.type != 'cuda' or name != 'torch'):
        raise EngineError('precision fp16 needs device cuda and the torch backend '
                          f'(device {device.type}, backend {name})')
    if name in ('onnxruntime', 'torchscript', 'compile') and device.type != 'cpu':
        raise EngineError(f'backend {name} is built for the CPU only (device {device})')
    dtype = torch.float16 if precision == 'fp16' else torch.float32
    width, height = image_size
    threads = threads or torch.get_num_threads()
    model = model.eval()
    graph = _FrameGraph(model.to(dtype) if dtype != torch.float32 else model,
                        torch.as_tensor(scale), dtype).to(device).eval()
    frames = torch.zeros(1, height, width, 3, dtype=torch.uint8, device=device)
    example = (frames, ids.to(device), mask.to(device))
    start = time.perf_counter()
    try:
        if name == 'torch':
            run = _torch_runner(graph, device)
        elif name == 'torchscript':
            import warnings
            with torch.no_grad(), warnings.catch_warnings():
                # Tracer notes on shape checks frozen as constants (the input size is fixed,
                # and the result is checked below) and torch.jit's deprecation: not for logs.
                warnings.simplefilter('ignore')
                traced = torch.jit.trace(graph, example, check_trace=False)
                run = _torch_runner(torch.jit.optimize_for_inference(torch.jit.freeze(traced)),
                                    device)
        elif name == 'compile':
            run = _torch_runner(torch.compile(graph, dynamic=False), device)
        else:
            if not onnxruntime_available():
                raise EngineError('backend onnxruntime needs the onnxruntime and onnx '
                                  'packages (pip install onnxruntime onnx)')
            run = _onnxruntime_runner(graph, example, threads)
        engine = Engine(name, run)
        if name != 'torch':
            engine.max_difference = _check(engine, graph, image_size, ids, mask, device)
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to build is one clear error
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineError(f'backend {name} failed to build: {message}') from None
    engine.build_seconds = time.perf_counter() - start
    return engine


def _check(engine: Engine, graph: nn.Module, image_size, ids, mask, device) -> float:
    """Compare the engine with eager PyTorch on random frames; return the largest difference."""
    width, height = image_size
    rng = np.random.default_rng(0)
    reference = _torch_runner(graph, device)
    scale = float(graph.scale.abs().max())
    empty_ids, empty_mask = torch.zeros_like(ids), torch.zeros_like(mask)
    empty_ids[:, 0], empty_mask[:, 0] = 1, True
    worst = 0.0
    for probe_ids, probe_mask in ((ids, mask), (empty_ids, empty_mask)):
        frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        expected = reference(frame, probe_ids.to(device), probe_mask.to(device))
        got = engine(frame, probe_ids, probe_mask)
        if got.shape != expected.shape:
            raise EngineError(f'backend {engine.name}: output shape {got.shape} != '
                              f'{expected.shape}')
        worst = max(worst, float(np.max(np.abs(got - expected))) / max(scale, 1e-12))
    if not worst <= TOLERANCE:
        raise EngineError(f'backend {engine.name} differs from eager PyTorch by {worst:.2e} '
                          f'(tolerance {TOLERANCE:g})')
    return worst
