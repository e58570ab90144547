"""Schemathesis hooks for .ci/openapi-fuzz (loaded through SCHEMATHESIS_HOOKS).

`schemathesis.toml` also lets a schema-valid request get 400 on /auth/login/mfa and
/auth/reauth; `second_factor_refusals_are_neither_or_both` makes sure that 400 is for offering
neither `code` nor `recovery_code` (the login's second step needs one) or both, and nothing else.

`schemathesis.toml` lets a schema-valid new password get 400 on /auth/signup and
/auth/password; this check makes sure that 400 is the password policy's refusal of something
the schema cannot express, and nothing else:
- a commonly used password (the list is ~100,000 passwords long);
- a length that is within the schema's bounds as sent, but not once NFKC-normalised (Gatehouse
  counts the characters of the normalised password: "e" + U+0301 is one character, "é").
"""
import unicodedata

import schemathesis

NEW_PASSWORD_FIELDS = {"/auth/signup": "password", "/auth/password": "new_password"}
COMMON = "Invalid password: it is a commonly used password"
LENGTH = "Invalid password: it must be "


@schemathesis.check
def new_password_refusals_are_the_policy_only(ctx, response, case):
    field = NEW_PASSWORD_FIELDS.get(case.operation.path)
    meta = case.meta
    if field is None or response.status_code != 400 or meta is None:
        return None
    if not meta.generation.mode.is_positive:
        return None
    message = response.json().get("message", "")
    if message.startswith(COMMON):
        return None
    password = case.body.get(field) if isinstance(case.body, dict) else None
    if message.startswith(LENGTH) and isinstance(password, str):
        bounds = message[len(LENGTH):].split(" characters")[0]
        low, high = (int(n) for n in bounds.split(" to "))
        if not low <= len(unicodedata.normalize("NFKC", password)) <= high:
            return None
    raise AssertionError(f"a schema-valid request was refused with 400: {message!r}")


PROOF_PATHS = {"/auth/login/mfa": True, "/auth/reauth": False}  # path: whether one is required
PROOF_MESSAGE = "send one of code and recovery_code, as a string"


@schemathesis.check
def second_factor_refusals_are_neither_or_both(ctx, response, case):
    required = PROOF_PATHS.get(case.operation.path)
    meta = case.meta
    if required is None or response.status_code != 400 or meta is None:
        return None
    if not meta.generation.mode.is_positive:
        return None
    message = response.json().get("message", "")
    body = case.body if isinstance(case.body, dict) else {}
    offered = [name for name in ("code", "recovery_code") if body.get(name) is not None]
    if message == PROOF_MESSAGE and (len(offered) == 2 or (required and not offered)):
        return None
    raise AssertionError(f"a schema-valid request was refused with 400: {message!r}")
