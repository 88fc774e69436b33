"""Seeing and checking gradients: every method side by side (``verify``), pictures
(``render``) and backprop step by step (``steps``)."""
