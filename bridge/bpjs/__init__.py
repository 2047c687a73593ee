"""BPJS Kesehatan bridging: the Antrean RS client (WS BPJS), its cryptography, and a sandbox that stands in for it.

The sandbox (``bridge.bpjs.sandbox``; ``python -m bridge.bpjs.sandbox_cli`` serves it) is imported on its own, so
the client does not pull in Flask views.
"""

from bridge.bpjs.client import (
    CODE_DUPLICATE,
    CODE_FAILED,
    CODE_OK,
    CODE_RETRY,
    AntreanClient,
    BpjsResult,
    BpjsTransportError,
)
from bridge.bpjs.crypto import BpjsDecryptError, BpjsError, decrypt_response, encrypt_response, signature

__all__ = [
    "CODE_DUPLICATE",
    "CODE_FAILED",
    "CODE_OK",
    "CODE_RETRY",
    "AntreanClient",
    "BpjsDecryptError",
    "BpjsError",
    "BpjsResult",
    "BpjsTransportError",
    "decrypt_response",
    "encrypt_response",
    "signature",
]
