# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Inference engines: one batch-1 forward pass of a :class:`FusionModel`, run four ways.

Every engine maps one uint8 RGB frame ``[H, W, 3]`` (already resized) and the instruction's
cached language inputs (:meth:`FusionModel.condition`: adapted token features and mask, or
sentence vectors; none for ``vision_only``) to float32 actions ``[chunk, action_dim]`` in
physical units. It is the per-frame part of ``VLAPolicy.predict``: the text encoder runs
only when the instruction changes, outside the engine, whatever ``language.kind`` is.

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
from typing import Callable, Dict, List, Optional, Sequence, Tuple

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


Language = Dict[str, torch.Tensor]


class _FrameGraph(nn.Module):
    """The per-frame prediction as one graph: uint8 NHWC frame + language -> actions."""

    def __init__(self, model: nn.Module, scale: torch.Tensor, dtype: torch.dtype):
        super().__init__()
        self.model = model
        self.dtype = dtype
        self.names: Tuple[str, ...] = tuple(model.language_inputs)
        self.register_buffer('scale', scale.to(dtype))

    def forward(self, frames: torch.Tensor, *language: torch.Tensor) -> torch.Tensor:
        """Map uint8 frames [B, H, W, 3] and the inputs in ``names`` to [B, chunk, A]."""
        images = frames.permute(0, 3, 1, 2).to(self.dtype).div(255.0)  # [B, 3, H, W]
        inputs = {name: (x.to(self.dtype) if x.is_floating_point() else x)
                  for name, x in zip(self.names, language)}
        return self.model.act(images, inputs) * self.scale

    def flat(self, language: Language) -> Tuple[torch.Tensor, ...]:
        """Return the graph's language inputs from a :meth:`FusionModel.condition` dict."""
        return tuple(language[name] for name in self.names)


class Engine:
    """A built engine: ``engine(frame, language) -> actions``; ``name`` says which."""

    def __init__(self, name: str, run: Callable, build_seconds: float = 0.0):
        self.name = name
        self._run = run
        self.build_seconds = build_seconds
        self.max_difference = 0.0

    def __call__(self, frame: np.ndarray, language: Language) -> np.ndarray:
        """Return float32 actions [chunk, action_dim] for one uint8 frame [H, W, 3]."""
        return self._run(frame, language)


def _torch_runner(graph: Callable, names: Sequence[str], device: torch.device) -> Callable:
    def run(frame, language):
        frames = torch.from_numpy(np.ascontiguousarray(frame)[None]).to(device)  # [1, H, W, 3]
        with torch.inference_mode():
            return graph(frames, *(language[n] for n in names))[0].float().cpu().numpy()
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


def session_options(threads: int):
    """ONNX Runtime options of every session the package serves: sequential, no spinning."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads sleep instead of spinning: the node shares its cores with others.
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    return options


def _onnxruntime_runner(graph: nn.Module, example: Tuple, threads: int) -> Callable:
    import warnings

    import onnxruntime as ort
    buffer = io.BytesIO()
    with _constant_coordinates(), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')  # tracer warnings about the constant grids
        torch.onnx.export(graph, example, buffer, dynamo=False, opset_version=17,
                          input_names=['frames', *graph.names], output_names=['actions'])
    session = ort.InferenceSession(buffer.getvalue(), session_options(threads),
                                   providers=['CPUExecutionProvider'])

    names = [i.name for i in session.get_inputs() if i.name != 'frames']

    def run(frame, language):
        feed = {'frames': np.ascontiguousarray(frame)[None]}
        for name in names:
            feed[name] = language[name].detach().cpu().numpy()
        return session.run(None, feed)[0][0]
    return run


def build_engine(name: str, model: nn.Module, scale: torch.Tensor, image_size: Tuple[int, int],
                 probes: Sequence[Language], device: torch.device,
                 threads: Optional[int] = None, precision: str = 'fp32') -> Engine:
    """
    Build engine ``name`` (not ``auto``) for ``model`` in eval mode, and check it.

    ``probes`` are the language inputs of one or more instructions (batch 1,
    :meth:`FusionModel.condition`): the first is the export's example, all are checked.
    ``threads`` (default: torch's intra-op threads) sets ONNX Runtime's thread pool.
    ``precision='fp16'`` needs CUDA.
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
    probes = [{k: v.to(device) for k, v in probe.items()} for probe in probes]
    example = (frames, *graph.flat(probes[0]))
    start = time.perf_counter()
    try:
        if name == 'torch':
            run = _torch_runner(graph, graph.names, device)
        elif name == 'torchscript':
            import warnings
            with torch.no_grad(), warnings.catch_warnings():
                # Tracer notes on shape checks frozen as constants (the input size is fixed,
                # and the result is checked below) and torch.jit's deprecation: not for logs.
                warnings.simplefilter('ignore')
                traced = torch.jit.trace(graph, example, check_trace=False)
                run = _torch_runner(torch.jit.optimize_for_inference(torch.jit.freeze(traced)),
                                    graph.names, device)
        elif name == 'compile':
            run = _torch_runner(torch.compile(graph, dynamic=False), graph.names, device)
        else:
            if not onnxruntime_available():
                raise EngineError('backend onnxruntime needs the onnxruntime and onnx '
                                  'packages (pip install onnxruntime onnx)')
            run = _onnxruntime_runner(graph, example, threads)
        engine = Engine(name, run)
        if name != 'torch':
            engine.max_difference = _check(engine, graph, image_size, probes, device)
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to build is one clear error
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineError(f'backend {name} failed to build: {message}') from None
    engine.build_seconds = time.perf_counter() - start
    return engine


def _check(engine: Engine, graph: nn.Module, image_size, probes, device) -> float:
    """Compare the engine with eager PyTorch on random frames; return the largest difference."""
    width, height = image_size
    rng = np.random.default_rng(0)
    reference = _torch_runner(graph, graph.names, device)
    scale = float(graph.scale.abs().max())
    worst = 0.0
    for probe in probes:
        frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        expected = reference(frame, probe)
        got = engine(frame, probe)
        if got.shape != expected.shape:
            raise EngineError(f'backend {engine.name}: output shape {got.shape} != '
                              f'{expected.shape}')
        worst = max(worst, float(np.max(np.abs(got - expected))) / max(scale, 1e-12))
    if not worst <= TOLERANCE:
        raise EngineError(f'backend {engine.name} differs from eager PyTorch by {worst:.2e} '
                          f'(tolerance {TOLERANCE:g})')
    return worst
