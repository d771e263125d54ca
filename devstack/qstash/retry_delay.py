"""QStash's Upstash-Retry-Delay: an arithmetic expression over `retried`, in milliseconds.

Evaluated from a parsed AST with a fixed set of operators and functions, never `eval`:
the expression comes from whoever can publish.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "pow": math.pow,
    "sqrt": math.sqrt,
    "abs": abs,
    "exp": math.exp,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "min": min,
    "max": max,
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_LENGTH = 256


class RetryDelay:
    def __init__(self, expression: str) -> None:
        if len(expression) > MAX_LENGTH:
            raise ValueError("retry delay expression is too long")
        try:
            self._tree = ast.parse(expression.strip(), mode="eval")
        except SyntaxError:
            raise ValueError(f"invalid retry delay expression {expression!r}") from None
        self.expression = expression
        self.milliseconds(0)  # reject unknown names and functions now, not at retry time

    def milliseconds(self, retried: int) -> float:
        value = self._eval(self._tree.body, retried)
        if not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError("retry delay is not a number")
        return max(0.0, float(value))

    def _eval(self, node: ast.AST, retried: int) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and node.id == "retried":
            return retried
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self._eval(node.left, retried), self._eval(node.right, retried)
            if isinstance(node.op, ast.Pow) and abs(right) > 64:
                raise ValueError("exponent too large")
            return float(_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return float(_UNARY[type(node.op)](self._eval(node.operand, retried)))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
        ):
            args = [self._eval(arg, retried) for arg in node.args]
            try:
                return _FUNCTIONS[node.func.id](*args)
            except (TypeError, OverflowError, ValueError) as error:
                raise ValueError(f"{node.func.id}: {error}") from None
        raise ValueError(f"unsupported retry delay expression: {ast.unparse(node)!r}")
