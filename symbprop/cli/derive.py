"""``symbprop derive SPEC [--at VALUES] [--format tex|pdf|md|txt|html] [-o FILE] [--max-params N]``.

``--format html`` (or ``-o page.html``) writes the step-through page (``render.html.to_html``),
which needs ``--at VALUES``.

With -o, what was written is reported on stderr ("wrote notes.pdf (3 pages)", or the size of
a text file); ``-q`` leaves it out.  The document goes to stdout otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from symbprop.cli.options import QUIET_HELP, SPEC_HELP, at_least, load_spec, output_file, positive
from symbprop.errors import SymbpropError

#: Output suffixes (lower case) and the format each one means.
SUFFIXES = {".tex": "tex", ".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt",
            ".html": "html", ".htm": "html"}
#: Long names --format also takes (in any case), and the format each one means.
ALIASES = {"latex": "tex", "markdown": "md", "text": "txt"}
#: ``-o -`` is stdout, as for most command-line tools.
STDOUT = "-"


def command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    at: Annotated[str | None, typer.Option(
        "--at", metavar="VALUES",
        help="Values for a worked example: a YAML file or examples:NAME.")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", metavar="FORMAT",
        help="tex, pdf, md, txt or html (or latex, markdown, text), in any case (default: from "
        "the -o suffix, which must then be .tex, .pdf, .md, .txt or .html; without -o, tex). "
        "html is a step-through page and needs --at.",
    )] = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write to this file (atomically) instead of to stdout ('-' is stdout); pdf needs a "
        "file.",
    )] = None,
    max_params: Annotated[int, typer.Option(
        "--max-params", metavar="N", callback=at_least(1),
        help="Parameters worked out one by one before '... and N more' (at least 1).",
    )] = 20,
    lr: Annotated[float | None, typer.Option(
        "--lr", metavar="RATE",
        help="Learning rate for the worked example (overrides the values file's lr).",
    )] = None,
    kernels: Annotated[bool, typer.Option(
        "--kernels", help="Add the compiled kernels' gradients to the verification table.",
        metavar="",
    )] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP, metavar="")] = False,
) -> None:
    """Print the derivation of SPEC: forward pass, local derivatives, backward pass (BP1-BP4),
    every gradient as a chain-rule product; with --at, a worked example, one gradient-descent
    step and a check against finite differences."""
    from symbprop.spec.values import load_values

    fmt, output = _format_and_output(fmt, output)
    if lr is not None:
        positive("--lr", lr)
    model = load_spec(spec)
    values = None
    if at is not None:
        values = load_values(model, at)
        if lr is not None:
            values = _with_lr(values, lr)
    elif lr is not None:
        raise SymbpropError("--lr needs --at VALUES (the point to start from)")
    if kernels and values is None:
        raise SymbpropError("--kernels needs --at VALUES (the point to compare at)")
    # Imported here, once the command line and its files are valid: the derivation and the
    # documents bring SymPy (0.3 s), which a refused command line never needs.
    import symbprop.render as render
    from symbprop.symbolic.derivation import derive

    options = {"kernel_gradients": kernel_gradients} if kernels else {}
    if fmt == "html":
        from symbprop.render.html import to_html

        if values is None:
            raise SymbpropError("--format html needs --at VALUES: the page steps through the "
                                "numbers of the forward and backward pass at a point")
        document = to_html(derive(model), values, max_params=max_params)
    else:
        d = derive(model)
        document = render.render(d, values, fmt, max_params=max_params, **options)
    _emit(document, output)
    if output is not None and not quiet:
        typer.echo(f"wrote {output} ({_describe(document)})", err=True)
    if fmt == "md" and values is not None and output is not None:
        _descent_figure(d, values, output, quiet)


def _descent_figure(d, values, output: Path, quiet: bool) -> None:
    """The PNG the Markdown's gradient-descent section refers to, next to the document (a
    warning instead where matplotlib is missing: the document stands without it)."""
    from symbprop.render.descent_figure import write

    try:
        figure = write(d, values, output.parent)
    except SymbpropError as error:
        typer.echo(f"symbprop: warning: the descent plot was not written: {error}", err=True)
        return
    if not quiet:
        typer.echo(f"wrote {figure}", err=True)


def kernel_gradients(d, values) -> dict[str, float]:
    """∂L/∂θ from the compiled kernels (float64) at validated ``values``, by scalar name."""
    import numpy as np

    from symbprop.runtime.compiling import compile_model
    from symbprop.spec.variables import split_element

    k = compile_model(d.model)
    if d.model.kind == "graph":
        grads = k.loss_and_grad(values.params | values.constants)[1]
        scale = 1.0 if values.upstream is None else values.upstream  # ∂L/∂θ = ∂L/∂f · ∂f/∂θ
        return {name: scale * g for name, g in grads.items()}
    params = {name: np.asarray(array, dtype=float) for name, array in values.params.items()}
    _, grads = k.loss_and_grad(params, np.asarray(values.X), np.asarray(values.Y))
    return {name: float(grads[split_element(name)[0]][split_element(name)[1]])
            for name in d.params}


def _format_and_output(fmt: str | None, raw: str | None) -> tuple[str, Path | None]:
    """The document format and the checked output path, before any work.

    ``--format`` is one of ``render.FORMATS`` or ``ALIASES`` in any case; without it the format
    follows the -o suffix (any case), which must then be one of ``SUFFIXES``, and is tex on
    stdout (no -o, or ``-o -``); with it, a suffix of ``SUFFIXES`` that means another format is
    an error (-o notes.pdf --format txt), any other suffix is allowed.  -o must name a file (not
    a folder) that can be written."""
    from symbprop.render import FORMATS as DOCUMENT_FORMATS

    formats = (*DOCUMENT_FORMATS, *(() if "html" in DOCUMENT_FORMATS else ("html",)))
    if fmt is not None:
        name = ALIASES.get(fmt.lower(), fmt.lower())
        if name not in formats:
            documents = ", ".join(f for f in formats if f != "html")
            raise SymbpropError(f"--format: unknown format {fmt!r}; formats: {documents} (or "
                                f"{', '.join(ALIASES)}), and html for the step-through page")
        fmt = name
    if raw == STDOUT:
        raw = None
    suffixes = None if fmt is not None else tuple(SUFFIXES)
    output = output_file(raw, "-o", f"derivation.{fmt or 'pdf'}", suffixes,
                         hint=" (or give --format)")
    implied = SUFFIXES.get(output.suffix.lower()) if output is not None else None
    if fmt is not None and implied not in (None, fmt):
        raise SymbpropError(f"-o {raw}: the suffix means {implied} but --format is {fmt}; "
                            "make them agree or leave one out")
    if fmt is None:
        fmt = implied or "tex"
    if fmt == "pdf" and output is None:
        raise SymbpropError("--format pdf writes a binary file: give -o FILE.pdf, not stdout")
    return fmt, output


def _with_lr(values, lr: float):
    import dataclasses

    return dataclasses.replace(values, lr=lr)  # checked by positive() before any work


def _describe(document: str | bytes) -> str:
    """"3 pages" for a PDF, else the size: "12.3 kB"."""
    from symbprop.render.pdf import page_count

    pages = page_count(document) if isinstance(document, bytes) else None
    if pages is not None:
        return f"{pages} page{'s' * (pages != 1)}"
    size = len(document.encode("utf-8") if isinstance(document, str) else document)
    return f"{size} bytes" if size < 1000 else f"{size / 1000:.1f} kB"


def _emit(document: str | bytes, output: Path | None) -> None:
    from symbprop.files.atomic import write_bytes, write_text

    if output is None:
        sys.stdout.write(document)
        sys.stdout.flush()
    elif isinstance(document, bytes):
        write_bytes(output, document)
    else:
        write_text(output, document)
