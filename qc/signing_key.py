"""The site key as a pyHanko signer that parses its private key once.

pyHanko re-parses the DER key on every signature, and for RSA-3072 the key consistency check
in that parse costs about 120 ms (0.4 s on a loaded machine): more than everything else in
signing a certificate or an audit checkpoint. Both get their signer from signer_for(),
which decrypts each identity once per process.
"""

import hashlib
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash


class ParsedKeySigner(signers.SimpleSigner):
    """SimpleSigner that parses its private key once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._private_key = serialization.load_der_private_key(
            self.signing_key.dump(), password=None
        )

    @classmethod
    def of(cls, loaded: signers.SimpleSigner) -> "ParsedKeySigner":
        """The same key, certificate and chain as `loaded` (e.g. from load_pkcs12)."""
        return cls(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                   cert_registry=loaded.cert_registry)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algorithm = mechanism["algorithm"].native
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        key = self._private_key
        if algorithm.endswith("_rsa") and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algorithm)
        if algorithm.endswith("_ecdsa") and hasattr(key, "curve"):
            return key.sign(data, ECDSA(hash_algorithm))
        return super().sign_raw(data, digest_algorithm)


_signers: dict[tuple[bytes, bytes], ParsedKeySigner] = {}
_signers_lock = threading.Lock()


def signer_for(p12: bytes, passphrase: bytes) -> ParsedKeySigner:
    """The signer of a PKCS#12's bytes, decrypted once per process for each identity (keyed
    by the bytes' hash: a replaced file or secret is loaded afresh). ValueError when the
    PKCS#12 cannot be opened (a wrong passphrase)."""
    cache_key = (hashlib.sha256(p12).digest(), hashlib.sha256(passphrase).digest())
    with _signers_lock:
        signer = _signers.get(cache_key)
        if signer is None:
            signer = ParsedKeySigner.of(signers.SimpleSigner.load_pkcs12_data(p12, (),
                                                                              passphrase))
            if len(_signers) >= 4:
                _signers.clear()
            _signers[cache_key] = signer
    return signer
