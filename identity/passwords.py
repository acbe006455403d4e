"""Password hashing with argon2id (argon2-cffi); parameters travel inside each hash."""

from __future__ import annotations

from functools import lru_cache

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# At least the OWASP minimum for argon2id: 19 MiB, 2 iterations, parallelism 1.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1

_hasher = argon2.PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=argon2.Type.ID,
)


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of the password."""
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash; a missing or corrupt hash never matches."""
    if not password_hash:
        dummy_verify(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker or different parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password")


def dummy_verify(password: str) -> None:
    """Spend the same time as a real check, so an unknown account cannot be told apart."""
    try:
        _hasher.verify(_dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass
