"""Bundled example graphs (.gc files) and the scripts that use them."""
