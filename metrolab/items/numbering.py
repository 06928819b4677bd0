"""Item numbers (R6.6a): prefix + year + zero-padded yearly sequence + an optional check
character computed by ISO/IEC 7064:2003 MOD 11-2.

Pure functions: the allocation of the sequence under a row lock is the service
`metrolab.items.services.item_number_allocate`.
"""

from __future__ import annotations

from dataclasses import dataclass

# ISO/IEC 7064 MOD 11-2 is a pure system over the digits 0-9 with the supplementary check
# character "X" for the value 10 (also used by GB 11643-1999 for the last character of
# Chinese resident identity numbers, and by ISNI / ORCID).
MOD11_2_CHARS = "0123456789X"


def mod11_2_check(digits: str) -> str:
    """The ISO/IEC 7064 MOD 11-2 check character (0-9 or X) for a string of decimal digits.

    Iteratively p = ((p + d) × 2) mod 11 over the digits; the check character c makes
    (p + c) mod 11 = 1, i.e. c = (12 - p) mod 11, written X when it is 10.
    """
    if not digits or not all(ch in "0123456789" for ch in digits):
        raise ValueError("MOD 11-2 is computed over decimal digits only")
    p = 0
    for ch in digits:
        p = ((p + int(ch)) * 2) % 11
    return MOD11_2_CHARS[(12 - p) % 11]


def mod11_2_valid(text: str) -> bool:
    """True when the last character of `text` is the MOD 11-2 check of the digits before it."""
    if len(text) < 2:
        return False
    try:
        return mod11_2_check(text[:-1]) == text[-1].upper()
    except ValueError:
        return False


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are written: what `ItemNumberRule` holds, without the database."""

    prefix: str = "YP"
    year_digits: int = 4
    sequence_digits: int = 5
    check_digit: bool = True


def format_item_number(rule: NumberFormat, year: int, sequence: int) -> str:
    """The item number of the `sequence`-th item of `year`, e.g. YP2026000017 + check "X".

    The check character covers the numeric part (year and sequence), not the prefix, which
    may hold letters. A sequence wider than the rule's digits is written in full rather than
    truncated, so numbers stay unique.
    """
    if rule.year_digits not in (2, 4):
        raise ValueError(f"year digits must be 2 or 4, not {rule.year_digits}")
    if sequence < 1:
        raise ValueError("sequence numbers start at 1")
    year_text = f"{year:04d}"[-rule.year_digits :]
    numeric = f"{year_text}{sequence:0{rule.sequence_digits}d}"
    check = mod11_2_check(numeric) if rule.check_digit else ""
    return f"{rule.prefix}{numeric}{check}"
