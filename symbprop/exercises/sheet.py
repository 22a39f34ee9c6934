"""One exercise sheet as documents: the sheet (questions, empty boxes), its key (every answer,
then the worked derivation of ``symbprop.render`` at the sheet's point) and its values file.

``documents(d, sheet, fmt)`` returns ``{file name: bytes}`` for ``fmt`` tex, md or pdf, with
``NN`` the sheet's two-digit number: ``sheet-NN.<fmt>``, ``key-NN.<fmt>``, ``values-NN.yaml``.
Layout lives in the templates ``templates/exercise_{sheet,key}.{tex,md}.j2``; math arrives
printed by ``SymbpropLatexPrinter``.  Numbers: the point's decimals as given; an answer exactly
(every digit) when it is a decimal of at most ``EXACT_DIGITS`` significant digits, as for
rational points of polynomial models, else to ``DIGITS`` significant digits.
"""

from __future__ import annotations

import shlex

import sympy
import yaml

from symbprop.functions.sympy_classes import as_elementary
from symbprop.render import to_latex, to_markdown
from symbprop.render.latex import format_float, latex
from symbprop.render.notation import Chain, Partial
from symbprop.render.pdf import compile_pdfs
from symbprop.templating import render as render_template

DIGITS = 6
EXACT_DIGITS = 10


def number(value, tex: bool = True) -> str:
    """An answer or a given number as text (see the module docstring); words stay words."""
    if isinstance(value, str) or isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    v = float(value)
    exact = f"{round(v, EXACT_DIGITS):.{EXACT_DIGITS}f}".rstrip("0").rstrip(".")
    exact = "0" if exact in ("-0", "") else exact
    digits = len(exact.lstrip("-").replace(".", "").lstrip("0"))
    if abs(float(exact) - v) <= 1e-13 * max(1.0, abs(v)) and digits <= EXACT_DIGITS:
        return exact
    mantissa, exponent = format_float(v, DIGITS)
    if exponent is None:
        return mantissa
    return rf"{mantissa} \times 10^{{{exponent}}}" if tex else f"{mantissa}e{exponent}"


def given(d, values) -> list[dict]:
    """The point's numbers as (LaTeX label, text) rows: inputs, targets, parameters."""
    rows = []
    if d.model.kind == "graph":
        for name, value in values.items():
            if name != "lr":
                rows.append({"label": latex(sympy.Symbol(name)), "value": number(value)})
        return rows
    arrays = {"x": values["x"], "y": values["y"], **values["params"]}
    for name, array in arrays.items():
        base = d.base(name)
        if not isinstance(array, list):
            rows.append({"label": latex(base), "value": number(array)})
            continue
        flat = _flatten(array)
        shape = (len(array), len(array[0])) if isinstance(array[0], list) else (len(array),)
        for index, value in zip(_indices(shape), flat, strict=True):
            rows.append({"label": latex(base[index]), "value": number(value)})
    return rows


def _flatten(array) -> list:
    return [v for row in array for v in (row if isinstance(row, list) else [row])]


def _indices(shape):
    if len(shape) == 1:
        return [(i,) for i in range(shape[0])]
    return [(i, j) for i in range(shape[0]) for j in range(shape[1])]


def equations(d) -> list[dict]:
    """The model's forward equations and its loss, printed (the sheet's statement)."""
    return [{"lhs": latex(lhs), "rhs": latex(rhs)} for lhs, rhs, kind in d.scalar_equations()
            if kind in ("forward", "loss")]


def functions(d) -> list[dict]:
    """The definitions of the named functions the forward equations use (σ, relu, …), in
    elementary terms, so that a sheet states what the student computes."""
    z, seen = sympy.Symbol("z"), {}
    for _lhs, rhs, kind in d.scalar_equations():
        if kind in ("forward", "loss"):
            for call in sorted(rhs.atoms(sympy.Function), key=sympy.default_sort_key):
                if len(call.args) == 1 and type(call) not in seen:
                    seen[type(call)] = type(call)(z)
    rows = []
    for call in seen.values():
        plain = as_elementary(call)
        if plain != call:
            rows.append({"lhs": latex(call), "rhs": latex(plain)})
    return rows


def _item(item, key: bool, tex: bool) -> dict:
    row = {"label": item.label, "words": item.words, "value": number(item.value, tex),
           "paths": []}
    for path in item.paths:
        row["paths"].append({
            "partials": latex(Chain(*[Partial(f.of, f.wrt) for f in path])),
            "symbols": latex(Chain(*[f.value for f in path])),
            "count": len(path)})
    for path, numbers in zip(row["paths"], item.numbers, strict=False):
        path["numbers"] = r" \cdot ".join(_factor(v, tex) for v in numbers)
    return row


def _factor(value, tex: bool) -> str:
    text = number(value, tex)
    return rf"\left({text}\right)" if text.startswith("-") else text


def context(d, sheet, key: bool, tex: bool) -> dict:
    """The template context of a sheet (``key`` False) or its key."""
    return {
        "name": d.model.name,
        "name_tex": d.model.name.replace("_", r"\_"),
        "number": sheet.number,
        "seed": sheet.seed,
        "kind": d.model.kind,
        "equations": equations(d),
        "functions": functions(d),
        "given": given(d, sheet.values),
        "lr": number(sheet.values["lr"]),
        "questions": [{"kind": q.kind, "text": q.text,
                       "rows": [_item(i, key, tex) for i in q.items]}
                      for q in sheet.questions],
    }


def values_yaml(d, sheet) -> str:
    """The values file of a sheet (what ``symbprop derive --at`` reads)."""
    head = (f"# Exercise sheet {sheet.number:02d} for {d.model.name} (seed {sheet.seed}): the "
            "point of the sheet and its key.\n"
            f"# symbprop derive {shlex.quote(sheet.spec or 'SPEC')} --at "
            f"values-{sheet.number:02d}.yaml\n")
    return head + "".join(
        yaml.safe_dump({key: value}, sort_keys=False,
                       default_flow_style=None if isinstance(value, list | dict) else False)
        for key, value in sheet.values.items())


def _derivation_tex(d, values) -> tuple[str, str]:
    """(preamble, body) of the derivation document at ``values``: the key appends its body."""
    document = to_latex(d, values)
    preamble = document.split(r"\title{", 1)[0]
    body = document.split(r"\begin{document}", 1)[1].rsplit(r"\end{document}", 1)[0]
    body = body.replace(r"\maketitle", "", 1)
    return preamble, body


def documents(d, sheet, fmt: str) -> dict[str, bytes]:
    """``{file name: bytes}`` of one sheet (see the module docstring)."""
    nn = f"{sheet.number:02d}"
    files = {f"values-{nn}.yaml": values_yaml(d, sheet).encode()}
    if fmt == "md":
        sheet_md = render_template("exercise_sheet.md.j2", doc=context(d, sheet, False, False))
        key_md = render_template("exercise_key.md.j2", doc=context(d, sheet, True, False),
                                 derivation=to_markdown(d, sheet.values))
        files[f"sheet-{nn}.md"], files[f"key-{nn}.md"] = sheet_md.encode(), key_md.encode()
        return files
    preamble, body = _derivation_tex(d, sheet.values)
    sheet_tex = render_template("exercise_sheet.tex.j2", latex=True, preamble=preamble,
                                doc=context(d, sheet, False, True))
    key_tex = render_template("exercise_key.tex.j2", latex=True, preamble=preamble,
                              doc=context(d, sheet, True, True), derivation=body)
    if fmt == "tex":
        files[f"sheet-{nn}.tex"], files[f"key-{nn}.tex"] = sheet_tex.encode(), key_tex.encode()
        return files
    files[f"sheet-{nn}.pdf"], files[f"key-{nn}.pdf"] = compile_pdfs([sheet_tex, key_tex])
    return files


__all__ = ["context", "documents", "equations", "given", "number", "values_yaml"]
