"""Check-digit rules that a dataset parameter can ask for (``check:`` in its definition)."""

from __future__ import annotations

from collections.abc import Callable

_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def tax_check_digit(first9: str) -> int | None:
    """The check digit of a tax code's first nine digits, or None when never issued."""
    total = sum(int(d) * w for d, w in zip(first9, _TAX_WEIGHTS, strict=True))
    check = 10 - (total % 11)
    return None if check == 10 else check


def is_valid_tax_code(code: str) -> bool:
    """A 10-digit tax code with a correct check digit, optionally with a -NNN branch suffix."""
    main, _, branch = code.partition("-")
    if len(main) != 10 or not main.isdigit():
        return False
    if branch and (len(branch) != 3 or not branch.isdigit()):
        return False
    check = tax_check_digit(main[:9])
    return check is not None and check == int(main[9])


#: check name → (predicate, message shown to the caller when it fails)
CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "tax_code": (
        is_valid_tax_code,
        "Not a valid tax code: the check digit (10th digit) does not match.",
    ),
}
