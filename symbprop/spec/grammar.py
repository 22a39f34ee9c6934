"""What a formula may contain, and its limits: names and numbers only (no SymPy).

The spec reader checks names and literals against these without loading SymPy; the parser
enforces the limits (``symbprop.spec.formula_syntax`` those on the text and its syntax tree,
``symbprop.spec.formula`` those on the values it builds; their docstrings say what each one
stops) and builds each function and constant from these names.
"""

from __future__ import annotations

#: A formula's functions and how many arguments each takes, in the order the docs list them.
FUNCTION_ARITY = {
    "exp": "1", "log": "1", "sqrt": "1", "sin": "1", "cos": "1", "tanh": "1", "sigmoid": "1",
    "relu": "1", "softplus": "1", "abs": "1", "erf": "1", "max": "2 to 8", "min": "2 to 8",
}
#: The names that always mean a constant.
CONSTANT_NAMES = ("pi", "e")
#: Names a graph's variables may not take: they name values of the values file.
RESERVED_VARIABLES = {"lr": "the learning rate", "upstream": "the gradient from beyond the graph"}

MAX_LENGTH = 1000
MAX_DEPTH = 50
MAX_NODES = 500
MAX_LITERAL = 10**15
MAX_EXPONENT = 64
MAX_POWER_BASE = 10**6
MAX_BITS = 256  # numerator and denominator of every number, also intermediate ones
MAX_CONSTANT_LOG2 = 64  # a function's constant argument is at most 2**64 in size
MAX_FUNCTION_DEPTH = 5  # functions inside functions: exp(exp(exp(exp(exp(x)))))
MAX_DEGREE = 1024  # degree_bound of every product and power
