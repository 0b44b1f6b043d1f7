"""Read the simple shapes of XLSForm constraint and relevance expressions.

The tablet evaluates every expression in full; the server only needs the shapes bureau staff
write most: numeric ranges, text lengths, regex patterns, and relevance that compares one
answer with a value. Anything else is left to the tablet (the raw expression is always kept).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from survey_forms.model import (
    AllOf,
    AnyOf,
    Check,
    Comparison,
    Condition,
    Length,
    Number,
    Pattern,
    Range,
)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{[A-Za-z_][\w.\-]*\})
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][\w\-]*)
    | (?P<dot>\.)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, str, num, op, punct, word, dot
    text: str


class _NotSimple(Exception):
    """The expression is not one of the shapes the server reads."""


def _tokenize(expression: str) -> list[_Token] | None:
    tokens: list[_Token] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            return None
        kind = match.lastgroup or ""  # every alternative is a named group
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _number(text: str) -> Number:
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def _literal(token: _Token) -> str | Number:
    if token.kind == "str":
        return token.text[1:-1]
    if token.kind == "num":
        return _number(token.text)
    raise _NotSimple


def _is_word(token: _Token, word: str) -> bool:
    return token.kind == "word" and token.text == word


def _split_top_level(tokens: list[_Token], word: str) -> list[list[_Token]]:
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.text == "(" and token.kind == "punct":
            depth += 1
        elif token.text == ")" and token.kind == "punct":
            depth -= 1
        if depth == 0 and _is_word(token, word):
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _strip_parentheses(tokens: list[_Token]) -> list[_Token]:
    """Drop parentheses that wrap the whole expression."""
    while len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")":
        depth = 0
        for i, token in enumerate(tokens):
            if token.kind == "punct" and token.text == "(":
                depth += 1
            elif token.kind == "punct" and token.text == ")":
                depth -= 1
            if depth == 0 and i < len(tokens) - 1:
                return tokens  # the first "(" closes before the end: not a wrapper
        tokens = tokens[1:-1]
    return tokens


# ---------------------------------------------------------------------------------------------
# Constraints

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


@dataclass
class _Bounds:
    min: Number | None = None
    max: Number | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def add(self, op: str, value: Number) -> None:
        if op in (">", ">=", "="):
            inclusive = op != ">"
            if self.min is None or value > self.min or (value == self.min and not inclusive):
                self.min, self.min_inclusive = value, inclusive
        if op in ("<", "<=", "="):
            inclusive = op != "<"
            if self.max is None or value < self.max or (value == self.max and not inclusive):
                self.max, self.max_inclusive = value, inclusive

    @property
    def empty(self) -> bool:
        return self.min is None and self.max is None


def _comparison_with(tokens: list[_Token], subject: list[str]) -> tuple[str, Number] | None:
    """Match `<subject> OP number` or `number OP <subject>`; return (op as if subject first, n)."""
    texts = [t.text for t in tokens]
    n = len(subject)
    if len(tokens) == n + 2 and texts[:n] == subject and tokens[n].kind == "op":
        if tokens[n + 1].kind == "num":
            return tokens[n].text, _number(tokens[n + 1].text)
    if len(tokens) == n + 2 and texts[2:] == subject and tokens[1].kind == "op":
        if tokens[0].kind == "num":
            return _FLIP[tokens[1].text], _number(tokens[0].text)
    return None


def _conjuncts(tokens: list[_Token]) -> list[list[_Token]] | None:
    """Split a conjunction into its terms; None when a disjunction makes that unsound."""
    tokens = _strip_parentheses(tokens)
    if len(_split_top_level(tokens, "or")) > 1:
        return None
    parts = _split_top_level(tokens, "and")
    if len(parts) == 1:
        return parts
    terms: list[list[_Token]] = []
    for part in parts:
        inner = _conjuncts(part)
        if inner is not None:
            terms.extend(inner)
        # A part with an `or` inside cannot be checked, but dropping it keeps the rest sound:
        # every other conjunct must still hold.
    return terms


def parse_constraint(expression: str | None, field_type: str) -> tuple[Check, ...]:
    """Return the checks the server can make from a constraint on a field of this type."""
    if not expression:
        return ()
    tokens = _tokenize(expression)
    if not tokens:
        return ()
    terms = _conjuncts(tokens)
    if terms is None:
        return ()
    numbers = _Bounds()
    lengths = _Bounds()
    patterns: list[Pattern] = []
    for term in terms:
        term = _strip_parentheses(term)
        value_cmp = _comparison_with(term, ["."])
        if value_cmp is not None:
            if field_type in ("integer", "decimal") and value_cmp[0] != "!=":
                numbers.add(*value_cmp)
            continue
        length_cmp = _comparison_with(term, ["string-length", "(", ".", ")"])
        if length_cmp is not None:
            op, n = length_cmp
            if field_type == "text" and isinstance(n, int) and op != "!=":
                # Lengths are whole numbers: store inclusive bounds only.
                if op == ">":
                    op, n = ">=", n + 1
                elif op == "<":
                    op, n = "<=", n - 1
                lengths.add(op, n)
            continue
        pattern = _regex_call(term)
        if pattern is not None and field_type == "text":
            patterns.append(Pattern(pattern))
    checks: list[Check] = []
    if not numbers.empty:
        checks.append(Range(numbers.min, numbers.max, numbers.min_inclusive, numbers.max_inclusive))
    if not lengths.empty:
        checks.append(Length(_int_or_none(lengths.min), _int_or_none(lengths.max)))
    checks.extend(patterns)
    return tuple(checks)


def _int_or_none(value: Number | None) -> int | None:
    return None if value is None else int(value)


def _regex_call(term: list[_Token]) -> str | None:
    texts = [t.text for t in term]
    if len(term) == 6 and texts[:4] == ["regex", "(", ".", ","] and texts[5] == ")":
        if term[4].kind == "str":
            pattern = term[4].text[1:-1]
            try:
                re.compile(pattern)
            except re.error:
                return None  # an XPath regex Python cannot read: the tablet still checks it
            return pattern
    return None


# ---------------------------------------------------------------------------------------------
# Relevance


class _RelevanceParser:
    """Recursive descent over `or` / `and` / parentheses / simple comparisons."""

    def __init__(self, tokens: list[_Token], resolve: Callable[[str], str | None]):
        self.tokens = tokens
        self.position = 0
        self.resolve = resolve

    def parse(self) -> Condition:
        condition = self._or()
        if self.position != len(self.tokens):
            raise _NotSimple
        return condition

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _NotSimple
        self.position += 1
        return token

    def _expect(self, text: str) -> None:
        if self._next().text != text:
            raise _NotSimple

    def _or(self) -> Condition:
        terms = [self._and()]
        while (token := self._peek()) is not None and _is_word(token, "or"):
            self.position += 1
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))

    def _and(self) -> Condition:
        terms = [self._primary()]
        while (token := self._peek()) is not None and _is_word(token, "and"):
            self.position += 1
            terms.append(self._primary())
        return terms[0] if len(terms) == 1 else AllOf(tuple(terms))

    def _field(self, token: _Token) -> str:
        if token.kind != "ref":
            raise _NotSimple
        record_field = self.resolve(token.text[2:-1])
        if record_field is None:
            raise _NotSimple  # a note, a calculate or a group: not a value the server has
        return record_field

    def _primary(self) -> Condition:
        token = self._next()
        if token.kind == "punct" and token.text == "(":
            condition = self._or()
            self._expect(")")
            return condition
        if _is_word(token, "selected"):
            self._expect("(")
            field = self._field(self._next())
            self._expect(",")
            value = _literal(self._next())
            self._expect(")")
            return Comparison(field, "selected", value)
        if token.kind == "ref":
            field = self._field(token)
            op = self._next()
            if op.kind != "op" or op.text not in ("=", "!="):
                raise _NotSimple
            return Comparison(field, op.text, _literal(self._next()))
        if token.kind in ("str", "num"):
            value = _literal(token)
            op = self._next()
            if op.kind != "op" or op.text not in ("=", "!="):
                raise _NotSimple
            return Comparison(self._field(self._next()), op.text, value)
        raise _NotSimple


def parse_relevance(
    expression: str | None, resolve: Callable[[str], str | None]
) -> Condition | None:
    """Parse a simple relevance expression; return None when it is not simple."""
    # `resolve` maps a question name from `${name}` to its record field, or to None when the
    # question holds no field.
    if not expression:
        return None
    tokens = _tokenize(expression)
    if not tokens:
        return None
    try:
        return _RelevanceParser(tokens, resolve).parse()
    except _NotSimple:
        return None


def all_of(conditions: list[Condition]) -> Condition:
    """And conditions together, flattening nested conjunctions."""
    terms: list[Condition] = []
    for condition in conditions:
        terms.extend(condition.terms if isinstance(condition, AllOf) else (condition,))
    return terms[0] if len(terms) == 1 else AllOf(tuple(terms))
