"""Prompt templates and strict parsing of answers to labels.

The input text is placed inside a delimited block and the answer must name
exactly one known label: whatever the text says, the result is one of the
labels or a parsing failure, never a new label.
"""

import re
import string

DEFAULT_PROMPT = (
    "Classify the text below into exactly one of these labels: {labels}.\n"
    "{examples}"
    "Text:\n<text>\n{text}\n</text>\n"
    "{hint}"
    "Answer with the label only."
)

DEFAULT_HINT_PROMPT = (
    "A smaller model suggests the label '{hint_label}' with confidence "
    "{hint_confidence:.0%}; it is often right but can be wrong.\n"
)

EXAMPLE_PROMPT = "Text:\n<text>\n{text}\n</text>\nLabel: {label}\n"

_FIELDS = {"labels", "examples", "text", "hint"}
_HINT_FIELDS = {"hint_label", "hint_confidence"}


def _template_fields(template, fields, name):
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    except ValueError as error:  # a lone brace
        raise ValueError(f"{name} is not a valid str.format template ({error}). {_BRACES}") \
            from error
    unknown = used - fields
    if unknown:
        raise ValueError(
            f"{name} uses unknown fields {sorted(unknown)}; the fields available are "
            f"{sorted(fields)}. {_BRACES}"
        )
    return used


_BRACES = ("To write a literal brace (e.g. JSON in the prompt), double it: {{ and }}.")


def check_prompts(prompt, hint_prompt):
    """Raise unless ``prompt`` and ``hint_prompt`` are templates :func:`build_prompt` can fill.

    ``prompt`` may use ``labels``, ``examples``, ``text`` (required) and
    ``hint``; ``hint_prompt`` may use ``hint_label`` and ``hint_confidence``.
    """
    if "text" not in _template_fields(prompt, _FIELDS, "prompt"):
        raise ValueError("prompt must contain the field {text}, where each sample goes.")
    _template_fields(hint_prompt, _HINT_FIELDS, "hint_prompt")


def build_prompt(text, labels, *, template=DEFAULT_PROMPT, hint_template=DEFAULT_HINT_PROMPT,
                 hint=None, examples=()):
    """One prompt for ``text``.

    Parameters
    ----------
    text : str
    labels : list of str
    template, hint_template : str
        ``str.format`` templates (fields ``labels``, ``examples``, ``text``,
        ``hint``; ``hint_label``, ``hint_confidence``).
    hint : tuple (label, confidence) or None
        The small model's answer, stated in the prompt when given.
    examples : sequence of (text, label)
        Few-shot examples.

    Examples
    --------
    >>> print(build_prompt("great film", ["neg", "pos"], hint=("pos", 0.8)))
    Classify the text below into exactly one of these labels: neg, pos.
    Text:
    <text>
    great film
    </text>
    A smaller model suggests the label 'pos' with confidence 80%; it is often right but can be wrong.
    Answer with the label only.
    """
    hint_text = ""
    if hint is not None:
        hint_text = hint_template.format(hint_label=hint[0], hint_confidence=hint[1])
    shots = "".join(EXAMPLE_PROMPT.format(text=_fence(t), label=lab) for t, lab in examples)
    if shots:
        shots = "Examples:\n" + shots
    return template.format(labels=", ".join(labels), examples=shots, text=_fence(text),
                           hint=hint_text)


def _fence(text):
    # The input cannot close its own block and pose as instructions.
    return text.replace("</text>", "< /text>")


def _normalise(text):
    return re.sub(r"\s+", " ", str(text)).strip().strip(" .'\"`*:").casefold()


def check_label_names(names):
    """Raise unless the labels stay distinct as an answer is read (case, spaces, quotes
    and a final period ignored), where two of them could never be told apart."""
    seen = {}
    for name in names:
        other = seen.setdefault(_normalise(name), name)
        if other != name:
            raise ValueError(
                f"The labels {other!r} and {name!r} read the same in an answer (case, "
                "surrounding spaces, quotes and a final period are ignored), so the LLM could "
                "never name one of them: merge them in y, or rename one.")


def parse_label(answer, labels):
    """Index of the one label the answer names, or None.

    The label alone (case, surrounding whitespace, quotes and a final period
    ignored), ``label: <label>``/``answer: <label>``, or a sentence that names
    exactly one label as a word of its own ("The answer is: negative."; a
    label inside a longer label that is named, "good" in "very good", does not
    count). An answer naming several labels, or none, is rejected (see
    :func:`labels_named`).

    Examples
    --------
    >>> parse_label(" Positive.", ["negative", "positive"])
    1
    >>> parse_label("The answer is: negative. I am confident.", ["negative", "positive"])
    0
    >>> parse_label("positive or negative", ["negative", "positive"]) is None
    True
    """
    wanted = _normalise(answer)
    wanted = re.sub(r"^(label|answer)\s*:\s*", "", wanted)
    matches = [i for i, label in enumerate(labels) if _normalise(label) == wanted]
    if len(matches) == 1:
        return matches[0]
    named = labels_named(answer, labels)
    return named[0] if len(named) == 1 else None


def labels_named(answer, labels):
    """Indices of the labels that ``answer`` names as words of their own (case ignored),
    leaving out a label named only inside a longer one that is named too.

    Examples
    --------
    >>> labels_named("It is very good, not bad", ["bad", "good", "very good"])
    [0, 2]
    """
    text = re.sub(r"\s+", " ", str(answer)).casefold()
    spans = {}
    for index, label in enumerate(labels):
        word = re.escape(_normalise(label))
        found = [m.span() for m in re.finditer(rf"(?<!\w){word}(?!\w)", text)] if word else []
        if found:
            spans[index] = found

    def inside_another(index, span):
        return any(other != index and start <= span[0] and span[1] <= end
                   and (end - start) > (span[1] - span[0])
                   for other, found in spans.items() for start, end in found)

    return [index for index, found in spans.items()
            if not all(inside_another(index, span) for span in found)]
