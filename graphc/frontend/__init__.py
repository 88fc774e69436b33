"""The ways a user writes a graph: Python operators (``handles``), the .gc text format
(``text_format``) and sympy expressions (``sympy_front``). Each builds an IR graph."""
