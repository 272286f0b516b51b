# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Robot data: rosbag2 bags to LeRobotDataset v3 directories, and v3 directories to training data.

Nothing here imports rclpy or ``ros/``: bags are read and written with ``rosbags`` (pure
Python), tables with ``pyarrow`` and videos with PyAV; the recorder node
(:mod:`vla_fusion_ros.ros.recorder`) builds on this package. The modules, one concern each:

- :mod:`.image_messages`: the pixels of Image and CompressedImage messages (rclpy's or
  rosbags'), with cv_bridge's checks; the fusion node decodes its camera with them too;
- :mod:`.lerobot_v3_schema`: the LeRobotDataset v3 layout this package writes and reads,
  written down; :mod:`.lerobot_v3_validate` checks a directory against it;
- :mod:`.bag_reading`: the streams of a bag (camera, instruction, command, state, episode
  events), with every bad input named by bag, topic and problem;
- :mod:`.alignment`: the rule that pairs each output frame with an image, a command, an
  instruction and a state;
- :mod:`.episodes`: episode boundaries from an episode topic;
- :mod:`.video`: MP4 encoding and decoding through PyAV; :mod:`.feature_stats`: the stats;
- :mod:`.lerobot_writer`: a v3 directory written atomically;
- :mod:`.bag_to_lerobot`: the converter's command line; :mod:`.bag_writing`: bags written
  with ``rosbags``; :mod:`.bag_recording`: the recorder's writer thread, one bag per episode;
- :mod:`.lerobot_dataset`: a v3 directory read into arrays for training.
"""
