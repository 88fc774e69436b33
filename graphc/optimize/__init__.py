"""Graph rewrites: the rule registry and the passes that run the rules to a fixed point."""
