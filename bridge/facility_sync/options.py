"""The worker's configuration from :class:`config.Settings`: this site, its peers and one keyring per link."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta

from config import ConfigError, Settings
from data.sync_envelope import EnvelopeError, Keyring
from data.sync_store import SyncError, check_site_id, link_id


@dataclass(frozen=True)
class SyncSetup:
    """This site, its peers (in configured order), each peer's link keyring, and the resend delay."""

    site: str
    peers: tuple[str, ...]
    keyrings: dict[str, Keyring]
    resend_after: timedelta

    def peer_of_link(self, link: str) -> str | None:
        """The peer whose link this is, or None for a link that is not ours."""
        return next((peer for peer, ring in self.keyrings.items() if ring.link == link), None)


def parse_keys(site: str, spec: str) -> dict[str, Keyring]:
    """``PEER:keyid:base64,...`` (newest key first per peer) as peer -> the keyring of the link with that peer.
    A malformed entry raises :class:`config.ConfigError` naming the peer and key id, never the key."""
    keys: dict[str, list[tuple[str, bytes]]] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ConfigError("PANTAU_SYNC_KEYS entries look like PEER:keyid:base64 (comma separated)")
        peer, key_id, text = parts
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"PANTAU_SYNC_KEYS: key {key_id} of peer {peer} is not base64") from None
        keys.setdefault(peer, []).append((key_id, key))
    rings = {}
    for peer, listed in keys.items():
        try:
            rings[peer] = Keyring(link_id(site, peer), listed)
        except EnvelopeError as exc:
            raise ConfigError(f"PANTAU_SYNC_KEYS: peer {peer}: {exc}") from None
    return rings


def load_setup(settings: Settings) -> SyncSetup:
    """The worker's setup; anything that would stop sync from working raises :class:`config.ConfigError`."""
    site = settings.site_code
    peers = tuple(dict.fromkeys(filter(None, (p.strip() for p in settings.sync_peers.split(",")))))
    if not peers:
        raise ConfigError("PANTAU_SYNC_PEERS is empty: name the site codes this site syncs with")
    try:
        for name in (site, *peers):
            check_site_id(name)
    except SyncError as exc:
        raise ConfigError(f"facility sync: {exc}") from None
    if site in peers:
        raise ConfigError(f"PANTAU_SYNC_PEERS names this site ({site}) itself")
    rings = parse_keys(site, settings.sync_keys)
    missing = [peer for peer in peers if peer not in rings]
    if missing:
        raise ConfigError(f"PANTAU_SYNC_KEYS has no key for peer(s) {', '.join(missing)}")
    extra = sorted(set(rings) - set(peers))
    if extra:
        raise ConfigError(f"PANTAU_SYNC_KEYS has keys for {', '.join(extra)}, not in PANTAU_SYNC_PEERS")
    return SyncSetup(site, peers, {p: rings[p] for p in peers}, timedelta(seconds=settings.sync_resend_seconds))
