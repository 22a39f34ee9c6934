"""``Documents``: a derivation's documents as its own methods (``d.to_latex()``,
``d.to_html(values)``, Jupyter's ``_repr_*_``).

A mixin of ``Derivation`` and nothing else: each method hands the derivation to
``symbprop.render``, imported when the method is called, because documents sit above
derivations in the pipeline (the one upward reach of ``symbolic``).
"""

from __future__ import annotations


class Documents:
    """The documents of a derivation (``self``); options as ``symbprop.render``'s."""

    def to_latex(self, values=None, **options) -> str:
        from symbprop.render import to_latex  # documents sit above derivations: imported on use

        return to_latex(self, values=values, **options)

    def to_markdown(self, values=None, **options) -> str:
        from symbprop.render import to_markdown  # imported on use, as to_latex

        return to_markdown(self, values=values, **options)

    def to_text(self, values=None, **options) -> str:
        from symbprop.render import to_text  # imported on use, as to_latex

        return to_text(self, values=values, **options)

    def to_html(self, values=None, **options) -> str:
        """The step-through page at ``values`` (``symbprop.render.html.to_html``)."""
        from symbprop.render.html import to_html  # imported on use, as to_latex

        return to_html(self, values, **options)

    def _repr_html_(self) -> str | None:
        """Jupyter: the page of a bundled example at its values, in an iframe; else None (the
        page needs a point: ``d.to_html(values)``)."""
        from symbprop.render.html import notebook_frame  # imported on use, as to_latex

        return notebook_frame(self)

    def _repr_latex_(self) -> str:
        from symbprop.render import to_latex_fragment  # imported on use, as to_latex

        return to_latex_fragment(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
