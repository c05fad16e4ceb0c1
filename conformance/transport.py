"""Reach the target once before the run, and say in plain words why it cannot be reached (exit code 3)."""

from __future__ import annotations

import requests


class TransportFailure(Exception):
    """The target could not be reached: refused, unknown host, TLS, timeout."""


def describe(exc: requests.RequestException, url: str) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return (
                f"TLS failure at {url}: the certificate is not trusted ({_reason(text)}). "
                "Use a certificate from a public CA, or pass --ca-bundle FILE for a private CA."
            )
        return f"TLS failure at {url}: {_reason(text)}"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"timeout: {url} did not answer in time (raise --timeout if the service is just slow)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "NameResolutionError" in text or "Name or service not known" in text or "nodename nor servname" in text:
            return f"unknown host: the name in {url} does not resolve (DNS)"
        if "Connection refused" in text or "ConnectionRefusedError" in text:
            return f"connection refused: nothing listens at {url}"
        return f"connection failure at {url}: {_reason(text)}"
    return f"request to {url} failed: {_reason(text)}"


def _reason(text: str) -> str:
    # urllib3 nests its reason in a long repr; the last parenthesised part is the useful one.
    return text.rsplit("(Caused by ", 1)[-1].rstrip(")")[:300]


def probe(
    url: str,
    *,
    verify: bool | str,
    timeout: float,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """One authenticated GET; returns the status code or raises TransportFailure."""
    try:
        with requests.get(
            url, auth=auth, headers=headers, verify=verify, timeout=timeout, allow_redirects=False
        ) as response:
            return response.status_code
    except requests.RequestException as exc:
        raise TransportFailure(describe(exc, url)) from None
