"""DSSE v1 envelopes (github.com/secure-systems-lab/dsse), the signature wrapper in-toto attestations travel in.

    {"payload": base64(body), "payloadType": "application/vnd.in-toto+json",
     "signatures": [{"keyid": "...", "sig": base64(Ed25519(PAE(payloadType, body)))}, ...]}

PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in bytes as ASCII decimals. Several
signatures on one envelope are several parties signing the same statement (the partner, then a reviewer). A keyid
is only a hint: each given key is tried against every signature.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from .keys import PublicKey, SigningKey

IN_TOTO = "application/vnd.in-toto+json"
MAX_ENVELOPE = 16 * 1024 * 1024  # a statement lists a bundle's files: kilobytes; a larger "envelope" is not ours
MAX_SIGNATURES = 64


class EnvelopeError(ValueError):
    """Not a readable DSSE envelope."""


def pae(payload_type: str, body: bytes) -> bytes:
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


@dataclass(frozen=True)
class Envelope:
    payload: bytes
    payload_type: str
    signatures: tuple[tuple[str, bytes], ...]  # (keyid hint, signature)

    def to_json(self) -> bytes:
        document = {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": keyid, "sig": base64.b64encode(signature).decode("ascii")}
                for keyid, signature in self.signatures
            ],
        }
        return (json.dumps(document, indent=2) + "\n").encode("utf-8")

    def signed_by(self, key: PublicKey) -> bool:
        message = pae(self.payload_type, self.payload)
        return any(key.verifies(signature, message) for _, signature in self.signatures)

    def with_signature(self, key: SigningKey) -> Envelope:
        signature = key.sign(pae(self.payload_type, self.payload))
        return Envelope(self.payload, self.payload_type, (*self.signatures, (key.public.keyid, signature)))

    def keyids(self) -> list[str]:
        return [keyid for keyid, _ in self.signatures]


def sign(body: bytes, key: SigningKey, payload_type: str = IN_TOTO) -> Envelope:
    return Envelope(body, payload_type, ()).with_signature(key)


def _b64(value: object, what: str) -> bytes:
    """Standard or URL-safe base64, padded or not: DSSE readers must accept each."""
    if not isinstance(value, str):
        raise EnvelopeError(f"{what} is not a base64 string")
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{what} is not valid base64") from None


def parse(data: bytes) -> Envelope:
    if len(data) > MAX_ENVELOPE:
        raise EnvelopeError("the envelope is far larger than any attestation the suite writes")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise EnvelopeError("the envelope is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("payloadType"), str):
        raise EnvelopeError("the envelope has no payloadType")
    signatures = document.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("the envelope has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise EnvelopeError(f"the envelope has {len(signatures)} signatures, more than {MAX_SIGNATURES}")
    parsed = []
    for index, entry in enumerate(signatures, 1):
        if not isinstance(entry, dict):
            raise EnvelopeError(f"signature {index} is not an object")
        keyid = entry.get("keyid", "")
        parsed.append((keyid if isinstance(keyid, str) else "", _b64(entry.get("sig"), f"signature {index}")))
    return Envelope(_b64(document.get("payload"), "the payload"), document["payloadType"], tuple(parsed))
