"""Jinja2 templates (kernels and documents), installed as the package ``symbprop.templates``."""
