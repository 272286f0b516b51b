# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
One concern per module: no module of the package is longer than LIMIT lines without a reason.

A longer module states why in its docstring, in a sentence that starts "Longer than 400
lines:", so that the length is a decision rather than an accident.
"""

import ast

from package_imports import package_modules  # noqa: I100 (the tests' own helper)

LIMIT = 400
REASON = f'Longer than {LIMIT} lines:'


def test_no_module_is_long_without_a_reason():
    long = []
    for module, path in sorted(package_modules().items()):
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        lines = text.count('\n')
        if lines > LIMIT and REASON not in (ast.get_docstring(ast.parse(text)) or ''):
            long.append(f'{module}: {lines} lines')
    assert not long, f'modules over {LIMIT} lines without "{REASON}" in the docstring: {long}'
