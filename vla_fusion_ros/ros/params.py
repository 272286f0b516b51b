# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Declare ROS parameters with descriptors, and validate them with messages that list choices.

Every node in this package declares its parameters through :func:`declare`, so that each one
carries a description, its valid range or choices (shown by ``ros2 param describe``), and is
checked once at start-up with an error that names the parameter and what would be valid.

A parameter that is not read-only can be set at run time (``ros2 param set``). Such a set is
checked by the same rules, then handed to the node's ``on_change`` hook, which applies it or
refuses it with a reason; a set that nobody applies would tell the operator a change took
effect when it did not, so :meth:`ParameterSet.finish` refuses a node whose writable
parameters have no hook. It also refuses keys of the node's own params-file sections that
name no parameter (:mod:`vla_fusion_ros.ros.params_file`).
"""

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rcl_interfaces.msg import ParameterType
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node

from vla_fusion_ros.ros.params_file import describe_unknown, unknown_keys
from vla_fusion_ros.ros.runtime import process_arguments


class ParameterError(ValueError):
    """A parameter has a value that the node cannot use; the message names it."""


_TYPES = {
    bool: ParameterType.PARAMETER_BOOL,
    int: ParameterType.PARAMETER_INTEGER,
    float: ParameterType.PARAMETER_DOUBLE,
    str: ParameterType.PARAMETER_STRING,
}


def _type_of(default: Any) -> int:
    if isinstance(default, (list, tuple)):
        if default and all(isinstance(v, bool) for v in default):
            return ParameterType.PARAMETER_BOOL_ARRAY
        if default and all(isinstance(v, int) for v in default):
            return ParameterType.PARAMETER_INTEGER_ARRAY
        if all(isinstance(v, (int, float)) for v in default) and default:
            return ParameterType.PARAMETER_DOUBLE_ARRAY
        return ParameterType.PARAMETER_STRING_ARRAY
    return _TYPES[type(default)]


def describe(name: str, default: Any, description: str, *,
             choices: Optional[Sequence[Any]] = None,
             value_range: Optional[Tuple[float, float]] = None,
             read_only: bool = False) -> ParameterDescriptor:
    """Build a :class:`ParameterDescriptor` whose constraint text is generated from the rules."""
    descriptor = ParameterDescriptor(name=name, type=_type_of(default), description=description,
                                     read_only=read_only)
    constraints = []
    if choices is not None:
        constraints.append('one of: ' + ', '.join(str(c) for c in choices))
    if value_range is not None:
        low, high = value_range
        constraints.append(f'range [{low}, {high}]')
        if isinstance(default, bool):
            pass
        elif isinstance(default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high),
                                                     step=0)]
        elif isinstance(default, float):
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(low), to_value=float(high), step=0.0)]
    if read_only:
        constraints.append('read-only: restart the node to change it')
    descriptor.additional_constraints = '; '.join(constraints)
    return descriptor


def check_value(name: str, value: Any, *, choices: Optional[Sequence[Any]] = None,
                value_range: Optional[Tuple[float, float]] = None) -> Any:
    """Return ``value`` if it satisfies the rules; raise :class:`ParameterError` otherwise."""
    if choices is not None and value not in choices:
        valid = ', '.join(str(c) for c in choices)
        raise ParameterError(f"parameter '{name}': invalid value {value!r} (valid: {valid})")
    if value_range is not None:
        low, high = value_range
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if not isinstance(v, (int, float)) or not (low <= v <= high):
                raise ParameterError(
                    f"parameter '{name}': value {value!r} is outside the range [{low}, {high}]")
    return value


class ParameterSet:
    """
    Declares a node's parameters, remembers their rules, and checks and applies runtime changes.

    ``on_change`` receives ``{name: value}`` of every declared parameter in one set request,
    after each passed its rules and before the node stores them; it applies them all or raises
    :class:`ParameterError` (or ``ValueError``) to refuse the request, whose message is the
    reason ``ros2 param set`` prints.
    """

    def __init__(self, node: Node,
                 on_change: Optional[Callable[[Dict[str, Any]], None]] = None):
        self._node = node
        self._rules = {}
        self._writable = []
        self.on_change = on_change
        node.add_on_set_parameters_callback(self._on_set)

    def declare(self, name: str, default: Any, description: str, *,
                choices: Optional[Sequence[Any]] = None,
                value_range: Optional[Tuple[float, float]] = None,
                read_only: bool = False) -> Any:
        """Declare ``name`` with a descriptor, validate its value and return it."""
        descriptor = describe(name, default, description, choices=choices,
                              value_range=value_range, read_only=read_only)
        try:
            param = self._node.declare_parameter(name, default, descriptor)
        except Exception as exc:  # rclpy raises several types for a value of the wrong type
            raise ParameterError(f"parameter '{name}': {exc}") from None
        value = param.value
        if isinstance(default, float) and isinstance(value, int):
            value = float(value)
        check_value(name, value, choices=choices, value_range=value_range)
        # Runtime changes are checked from now on (not during declaration: the check above
        # gives the clearer message).
        self._rules[name] = (choices, value_range)
        if not read_only:
            self._writable.append(name)
        return value

    def finish(self) -> None:
        """
        End the declarations; raise :class:`ParameterError` for unknown params-file keys.

        The node's own sections in the ``--params-file`` files it was started with must
        name only declared parameters: a typo (``max_linaer``) would leave the default in
        force while the operator believes the file's value. A node whose writable
        parameters nobody applies is a programming error (``RuntimeError``).
        """
        if self._writable and self.on_change is None:
            raise RuntimeError(f'parameters {", ".join(self._writable)} are writable but '
                               'nothing applies them: declare them read_only or set on_change')
        node = self._node
        names = list(node.list_parameters([], 0).names)
        found = unknown_keys(process_arguments(), node.get_fully_qualified_name(), names)
        if found:
            raise ParameterError(describe_unknown(found, node.get_fully_qualified_name(),
                                                  names))

    def _on_set(self, params) -> SetParametersResult:
        changes = {}
        try:
            for param in params:
                rules = self._rules.get(param.name)
                if rules is None:   # being declared, or not this set's parameter
                    continue
                value = param.value
                if isinstance(value, (list, tuple)) or type(value).__module__ == 'array':
                    value = list(value)
                check_value(param.name, value, choices=rules[0], value_range=rules[1])
                changes[param.name] = value
            if changes and self.on_change is not None:
                self.on_change(changes)
        except ValueError as exc:   # ParameterError included
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)
