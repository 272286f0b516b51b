# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The faults, one function each: inject it into a running :class:`~.graph.FaultGraph`, measure.

Each returns a result dictionary (``name``, ``problems`` and its measurements).
"""

import random
import signal
import time
from typing import Dict, List

from vla_fusion_ros.harness.records import Command
from vla_fusion_ros.ros import diagnostic_keys as keys
from vla_fusion_ros.tools.faults.graph import CAMERA_RATE, FaultGraph, STOP_BOUND
from vla_fusion_ros.tools.fuzz.cases import malformed_images

#: Seconds of commands before a malformed burst that its sign flips are compared with.
BASELINE_S = 2.0


def _result(name: str, **fields) -> Dict:
    fields.setdefault('problems', [])
    fields['name'] = name
    return fields


def _silence_after(graph: FaultGraph, zero: Command, seconds: float = 1.0) -> List[Command]:
    time.sleep(seconds)
    return graph.commands.moving_since(zero.t_mono + 1e-6)


def _judge_stop(graph: FaultGraph, result: Dict, zero: Command, stop) -> None:
    """Check a measured stop against the bound (``None``: not bounded), then the silence."""
    result['bound_s'] = STOP_BOUND
    if stop is not None and stop > STOP_BOUND:
        result['problems'].append(f'stop took {stop * 1e3:.0f} ms > bound '
                                  f'{STOP_BOUND * 1e3:.0f} ms')
    moved = _silence_after(graph, zero)
    if moved:
        result['problems'].append(f'{len(moved)} non-zero commands after the stop')


def camera_stall(graph: FaultGraph, kill: bool = False) -> Dict:
    """
    Freeze (SIGSTOP) or kill (SIGKILL) the camera; measure the time to the explicit zero.

    Then continue it (SIGCONT) or start a new camera, and measure the time until actions
    resume.
    """
    name = 'camera_restart' if kill else 'camera_stall'
    result = _result(name)
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    # The probe must see the camera's frames too, to tell when the last one was sent.
    graph.probe.spin_until(graph.images.fresh, 10.0)
    time.sleep(random.uniform(0.0, 1.0 / CAMERA_RATE))   # any phase of the camera period
    t_signal, m_signal = time.time(), time.monotonic()
    if kill:
        graph.camera.kill()
    else:
        graph.camera.pause()
    zero = graph.wait_zero(m_signal, timeout=5.0)
    if zero is None:
        result['problems'].append('no zero command after the camera stalled')
        if not kill:
            graph.camera.resume()
        return result
    last_frame = graph.images.last_before(t_signal + 0.05)
    result['stop_from_signal_s'] = zero.t_wall - t_signal
    if last_frame is not None:
        result['stop_from_last_frame_s'] = zero.t_wall - last_frame[2]
    _judge_stop(graph, result, zero,
                result.get('stop_from_last_frame_s', result['stop_from_signal_s']))
    m_restart = time.monotonic()
    if kill:
        graph.start_camera()
    else:
        graph.camera.resume()
    if graph.wait_moving(3, m_restart, timeout=30.0):
        first = graph.commands.moving_since(m_restart)[0]
        result['resume_s'] = first.t_mono - m_restart
    else:
        result['problems'].append('actions did not resume')
    return result


def instruction_publisher_dies(graph: FaultGraph, sig: int = signal.SIGTERM,
                               short_lease: bool = True) -> Dict:
    """
    Kill the process that published the latched instruction; measure the time to the zero.

    A latched instruction counts as alive only while its publisher lives. With SIGKILL, the
    node learns of the death through DDS participant liveliness: within the lease duration
    (0.4 s with the short-lease profile, 20 s with Fast DDS's default).
    """
    kind = 'crash' if sig == signal.SIGKILL else 'exit'
    lease = 'short_lease' if short_lease else 'default_lease'
    result = _result(f'instruction_publisher_{kind}' + (f'_{lease}' if kind == 'crash' else ''))
    # A fresh publisher with the lease under test.
    old = graph.publisher
    graph.start_publisher(short_lease=short_lease)
    time.sleep(1.0)
    old.stop(signal.SIGTERM)    # a clean exit: its peers forget it at once
    graph.probe.spin_until(
        lambda: graph.probe.node.count_publishers(graph.INSTRUCTION) == 1, 30.0)
    if not graph.wait_moving(5, time.monotonic(), timeout=30.0):
        result['problems'].append('no actions before the fault')
        return result
    t_signal, m_signal = time.time(), time.monotonic()
    graph.publisher.stop(sig, timeout=10.0)
    zero = graph.wait_zero(m_signal, timeout=40.0 if not short_lease else 5.0)
    if zero is None:
        result['problems'].append('no zero command after the instruction publisher died')
        return result
    result['stop_from_signal_s'] = zero.t_wall - t_signal
    result['bounded'] = kind == 'exit' or short_lease
    _judge_stop(graph, result, zero, result['stop_from_signal_s'] if result['bounded'] else None)
    m_restart = time.monotonic()
    graph.start_publisher()
    if graph.wait_moving(3, m_restart, timeout=30.0):
        result['resume_s'] = graph.commands.moving_since(m_restart)[0].t_mono - m_restart
    else:
        result['problems'].append('actions did not resume with a new publisher')
    return result


def node_restart(graph: FaultGraph, crash: bool = True) -> Dict:
    """
    Stop the fusion node (SIGKILL: a crash; SIGINT: a clean stop) and start a new one.

    A clean stop must publish a final zero and exit 0. The new node must pick up the latched
    instruction and resume.
    """
    result = _result('node_restart_crash' if crash else 'node_restart_clean')
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    m_signal = time.monotonic()
    old = graph.node
    if crash:
        result['exit_code'] = old.kill()
    else:
        result['exit_code'] = old.stop(signal.SIGINT)
        output = old.output
        zero = graph.wait_zero(m_signal, timeout=5.0)
        if result['exit_code'] != 0 or 'Traceback' in output:
            result['problems'].append(f'clean stop: exit {result["exit_code"]}, '
                                      f'traceback {"Traceback" in output}')
        if zero is None:
            result['problems'].append('no final zero at shutdown')
    graph.retired.append(old)
    m_start = time.monotonic()
    graph.start_node()
    if graph.wait_moving(3, m_start, timeout=90.0):
        result['resume_s'] = graph.commands.moving_since(m_start)[0].t_mono - m_start
        graph.probe.fresh_counters(graph.NODE)
        seen = graph.probe.diagnostics(graph.NODE).get(keys.INSTRUCTION, '')
        result['instruction_after_restart'] = seen
        if seen != graph.instruction:
            result['problems'].append(f'the new node follows {seen!r}, not the latched '
                                      f'{graph.instruction!r}')
    else:
        result['problems'].append('the new node published no actions')
    return result


def malformed_burst(graph: FaultGraph, count: int = 200, seed: int = 0) -> Dict:
    """
    Publish ``count`` malformed images among the camera's valid frames.

    The node must count each in ``frames_rejected``, keep acting on the valid frames (no
    watchdog stop, no zero command) and keep every command within the limits. The images go
    out in chunks of 20, 2 ms apart, each chunk once the node has counted the previous one:
    the node's reliable queue (depth 100) would otherwise drop the oldest, as it should.
    """
    result = _result('malformed_burst', sent=count, baseline_s=BASELINE_S)
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    pub = getattr(graph, 'burst_publisher', None)
    if pub is None:
        pub = graph.probe.image_publisher(graph.IMAGE, 'reliable', 100)
        graph.burst_publisher = pub
        graph.probe.spin_until(lambda: pub.get_subscription_count() >= 2, 5.0)
        time.sleep(0.5)   # let the reliable match complete
    before = graph.counters()
    m_start = time.monotonic()
    baseline = graph.commands.since(m_start - BASELINE_S)
    categories: Dict[str, int] = {}
    sent = 0
    for i, (category, msg) in enumerate(malformed_images(count, seed)):
        msg.header.stamp = graph.probe.node.get_clock().now().to_msg()
        pub.publish(msg)
        sent += 1
        categories[category] = categories.get(category, 0) + 1
        time.sleep(0.002)
        if sent % 20 == 0 or sent == count:
            expected = before.get('frames_rejected', 0) + sent
            graph.probe.spin_until(
                lambda: graph.probe.counters(graph.NODE).get('frames_rejected', 0) >= expected,
                10.0)
    m_end = time.monotonic()
    after = graph.counters()
    result['categories'] = categories
    result['rejected'] = after.get('frames_rejected', 0) - before.get('frames_rejected', 0)
    result['received'] = after.get('frames_received', 0) - before.get('frames_received', 0)
    result['duration_s'] = m_end - m_start
    result['rate_per_s'] = count / max(1e-9, m_end - m_start)
    during = graph.commands.since(m_start)
    result['commands_during'] = len([c for c in during if c.t_mono <= m_end + 0.2])
    zeros = [c for c in during if c.zero and c.t_mono <= m_end + 0.2]
    stops = after.get('watchdog_stops', 0) - before.get('watchdog_stops', 0)
    result['zeros_during'] = len(zeros)
    result['watchdog_stops_during'] = stops
    result['sign_flips_during'] = _sign_flips([c for c in during if c.t_mono <= m_end])
    result['sign_flips_before'] = _sign_flips(baseline)
    if result['rejected'] != count:
        result['problems'].append(f'{count} malformed images sent, {result["rejected"]} '
                                  'counted as rejected')
    if zeros or stops:
        result['problems'].append(f'{len(zeros)} zero commands and {stops} watchdog stops '
                                  'during the burst')
    if result['commands_during'] == 0:
        result['problems'].append('no commands during the burst')
    if not graph.alive():
        result['problems'].append('the node died')
    return result


def _sign_flips(commands: List[Command]) -> int:
    flips = 0
    for a, b in zip(commands, commands[1:]):
        flips += (a.linear * b.linear < 0) + (a.angular * b.angular < 0)
    return flips


def estop_toggles(graph: FaultGraph, toggles: int = 100, interval: float = 0.01) -> Dict:
    """
    Toggle the e-stop ``toggles`` times, ``interval`` s apart, ending engaged.

    Measures the reaction time of a single engage (publish to zero received), then checks that
    after the final engage nothing but zeros arrives, and that clearing resumes actions.
    """
    from std_msgs.msg import Bool
    from vla_fusion_ros.ros.qos import latched_qos
    result = _result('estop_toggles', toggles=toggles, interval_s=interval)
    pub = graph.probe.create_publisher(Bool, graph.ESTOP, latched_qos())
    graph.probe.spin_until(lambda: pub.get_subscription_count() >= 1, 5.0)
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    # One clean engage: reaction time.
    m_engage, t_engage = time.monotonic(), time.time()
    pub.publish(Bool(data=True))
    zero = graph.wait_zero(m_engage, timeout=5.0)
    if zero is None:
        result['problems'].append('no zero after the e-stop')
        return result
    result['estop_reaction_s'] = zero.t_wall - t_engage
    moved = _silence_after(graph, zero, 0.5)
    if moved:
        result['problems'].append(f'{len(moved)} non-zero commands while e-stopped')
    pub.publish(Bool(data=False))
    graph.wait_moving(3, time.monotonic(), timeout=10.0)
    # Rapid toggles, ending engaged.
    before = graph.counters()
    for i in range(toggles):
        pub.publish(Bool(data=i % 2 == 0))
        time.sleep(interval)
    m_final = time.monotonic()
    pub.publish(Bool(data=True))
    time.sleep(1.2)
    late = graph.commands.moving_since(m_final + 0.2)
    tail = graph.commands.since(m_final - 1.0)
    after = graph.counters()
    result['estops_counted'] = after.get('estops', 0) - before.get('estops', 0)
    result['estop_reported'] = graph.probe.diagnostics(graph.NODE).get(keys.ESTOP)
    if late:
        result['problems'].append(f'{len(late)} non-zero commands after the final engage')
    if not tail or not tail[-1].zero:
        result['problems'].append('the last command after the final engage is not a zero')
    if result['estop_reported'] != 'True':
        result['problems'].append('diagnostics do not report the e-stop')
    m_clear = time.monotonic()
    pub.publish(Bool(data=False))
    if graph.wait_moving(3, m_clear, timeout=10.0):
        result['resume_s'] = graph.commands.moving_since(m_clear)[0].t_mono - m_clear
    else:
        result['problems'].append('actions did not resume after clearing the e-stop')
    graph.probe.node.destroy_publisher(pub)
    return result
