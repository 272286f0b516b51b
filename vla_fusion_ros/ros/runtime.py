# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start, spin and stop a node the same way in every executable of this package.

- A node that cannot start (bad parameter, missing checkpoint, unknown device) exits with
  status 2 and one clear line on stderr, never a traceback.
- SIGINT and SIGTERM stop the node cleanly with exit status 0. rclpy's own signal handler is
  turned off so that the context is still valid when the node's ``on_shutdown`` hook runs:
  that is how the fusion node publishes its final zero command.

Written for Humble and newer: ``rclpy.init``/``spin``/``shutdown`` rather than the context
manager that only newer rclpy has.
"""

import signal
import sys
from typing import Callable, List, Optional, Sequence

import rclpy
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor

try:  # Humble has both; the guard keeps older or trimmed installs importable.
    from rclpy.executors import ExternalShutdownException
except ImportError:  # pragma: no cover
    ExternalShutdownException = RuntimeError
try:
    from rclpy.signals import SignalHandlerOptions
except ImportError:  # pragma: no cover
    SignalHandlerOptions = None
try:  # Jazzy and newer; experimental there.
    from rclpy.experimental import EventsExecutor
except ImportError:  # pragma: no cover - Humble
    EventsExecutor = None

#: Executor kinds a node may ask for with an ``executor_kind`` attribute (see run_node).
EXECUTORS = ('single', 'multi', 'events')

#: The command line rclpy was initialised with by :func:`init_without_signal_handlers`.
_arguments: List[str] = []


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def init_without_signal_handlers(args: Optional[Sequence[str]] = None) -> None:
    """``rclpy.init`` with rclpy's SIGINT handler off (Python's KeyboardInterrupt instead)."""
    _arguments[:] = list(args if args is not None else sys.argv)
    if SignalHandlerOptions is not None:
        try:
            rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
        except TypeError:  # pragma: no cover - an rclpy without the keyword
            rclpy.init(args=args)
    else:  # pragma: no cover
        rclpy.init(args=args)
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def process_arguments() -> List[str]:
    """
    Return the command line this process's node was started with (``--ros-args`` included).

    Empty when rclpy was initialised some other way (a node created inside a test).
    """
    return list(_arguments)


def make_executor(kind: str, threads: int = 2):
    """
    Return an executor of ``kind`` (one of :data:`EXECUTORS`).

    ``events`` is rclpy's EventsExecutor (Jazzy and newer, single-threaded, callbacks
    dispatched from C++); where it does not exist, a :class:`SingleThreadedExecutor` stands in.
    """
    if kind not in EXECUTORS:
        raise ValueError(f'executor: invalid value {kind!r} (valid: {", ".join(EXECUTORS)})')
    if kind == 'events' and EventsExecutor is not None:
        return EventsExecutor()
    if kind == 'multi':
        return MultiThreadedExecutor(num_threads=max(2, threads))
    return SingleThreadedExecutor()


def run_node(factory: Callable[[], object], args: Optional[Sequence[str]] = None,
             threads: int = 1) -> int:
    """
    Create the node with ``factory``, spin it until interrupted, and return the exit code.

    ``threads > 1`` uses a :class:`MultiThreadedExecutor` (for nodes whose callbacks sit in
    several callback groups). A node with an ``executor_kind`` attribute (see
    :func:`make_executor`) gets that executor instead.
    """
    name = getattr(factory, '__name__', 'node')
    try:
        init_without_signal_handlers(args)
    except Exception as exc:  # noqa: BLE001 - malformed --ros-args or params file: one line
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f'[{name}] cannot start: {message.split(", at /")[0]}', file=sys.stderr,
              flush=True)
        return 2
    node = None
    code = 0
    try:
        node = factory()
        kind = getattr(node, 'executor_kind', None) or ('multi' if threads > 1 else 'single')
        executor = make_executor(kind, threads)
        executor.add_node(node)
        # spin_once with a timeout, not spin(): the wait must return to Python now and then,
        # or a node with no timers (an unconfigured lifecycle node) never sees SIGINT.
        while rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f'[{name}] cannot start: {message}' if node is None
              else f'[{name}] stopped: {message}', file=sys.stderr, flush=True)
        code = 2 if node is None else 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut shutdown
        if node is not None:
            hook = getattr(node, 'on_shutdown', None)
            if hook is not None and rclpy.ok():
                try:
                    hook()
                except Exception as exc:  # noqa: BLE001
                    print(f'shutdown hook failed: {exc}', file=sys.stderr)
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return code
