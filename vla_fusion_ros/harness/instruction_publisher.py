# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A latched instruction publisher as a process of its own (its death is a fault to inject).

    python -m vla_fusion_ros.harness.instruction_publisher --topic /ns/instruction "go to..."

Publishes the text once (reliable, transient local) and lives until SIGINT or SIGTERM.
"""

import argparse
import os
import sys
from typing import List, Optional


def command(topic: str, text: str) -> List[str]:
    """Return the command line that runs this publisher."""
    return [sys.executable, '-m', __name__, '--topic', topic, text]


def main(argv: Optional[List[str]] = None) -> int:
    """Publish the instruction and spin until interrupted; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--topic', required=True)
    parser.add_argument('text')
    args = parser.parse_args(argv)
    from rclpy.node import Node
    from std_msgs.msg import String
    from vla_fusion_ros.ros.qos import latched_qos
    from vla_fusion_ros.ros.runtime import run_node

    class InstructionPublisher(Node):
        def __init__(self):
            super().__init__(f'instruction_publisher_{os.getpid()}')
            self.publisher = self.create_publisher(String, args.topic, latched_qos())
            self.publisher.publish(String(data=args.text))

    return run_node(InstructionPublisher, args=[])


if __name__ == '__main__':
    sys.exit(main())
