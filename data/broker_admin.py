"""Who may do what on the MQTT broker, and the client that tells Mosquitto's dynamic-security plugin.

Every rule is stated here once (DESIGN.md §3, deploy/README.md §2):

* a monitor logs in as its ``device_id`` with client id ``device_id``; it may publish only on its own
  ``pantau/v1/{site}/vitals|status|wave/{device_id}`` and subscribe to (and receive) only its own
  ``pantau/v1/{site}/cmd/{device_id}``; each monitor has a role of its own, ``device:{device_id}``;
* each Pantau process has its own user (:data:`PROCESS_USERS`) with only the topics it needs, bound to one client
  id where the process keeps one fixed id;
* everything else is refused (:data:`DEFAULT_ACCESS`), and the admin user only administers.

:class:`DynsecAdmin` sends the plugin's commands over MQTT (``$CONTROL/dynamic-security/v1``) with the admin
user, so registering, rotating or retiring a monitor needs no broker restart and no file on the broker.
:class:`NoBrokerAdmin` is used when no admin user is configured (the embedded demo's loopback broker): nothing is
provisioned.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from data.mqtt_client import BrokerAddress, make_client
from data.mqtt_topics import (
    ALL_COMMANDS,
    ALL_SIM_CONTROL,
    ALL_SIM_STATE,
    ALL_STATUS,
    ALL_VITALS,
    command_topic,
    status_topic,
    vitals_topic,
    wave_topic,
)
from data.sync_envelope import ack_topic, sync_topic

__all__ = [
    "CONTROL_TOPIC",
    "DEFAULT_ACCESS",
    "PROCESS_USERS",
    "BrokerAdmin",
    "BrokerAdminError",
    "DynsecAdmin",
    "NoBrokerAdmin",
    "ProcessUser",
    "device_acls",
    "device_role",
    "open_broker_admin",
]

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"
TIMEOUT = 5.0
# Refused unless a role allows it; unsubscribing is always harmless.
DEFAULT_ACCESS = {"publishClientSend": False, "publishClientReceive": False, "subscribe": False, "unsubscribe": True}
# Errors that mean "already as wanted" when a command is repeated (setup is idempotent).
_ALREADY = ("already exists", "not found")


def device_role(device_id: str) -> str:
    """The dynamic-security role holding one monitor's ACL."""
    return f"device:{device_id}"


def _acl(kind: str, topic: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "allow": True}


def _reads(topic: str, *, pattern: bool = True) -> list[dict[str, Any]]:
    """Subscribe to ``topic`` and receive what arrives on it."""
    return [_acl("subscribePattern" if pattern else "subscribeLiteral", topic), _acl("publishClientReceive", topic)]


def device_acls(site: str, device_id: str) -> list[dict[str, Any]]:
    """A monitor writes only its own vitals, status and wave topics and reads only its own command topic."""
    writes = [_acl("publishClientSend", topic(site, device_id)) for topic in (vitals_topic, status_topic, wave_topic)]
    return writes + _reads(command_topic(site, device_id), pattern=False)


def sync_user(site: str) -> str:
    """The broker user, and bound client id, of one site's facility sync worker."""
    return f"pantau-sync-{site}"


def sync_acls(site: str) -> list[dict[str, Any]]:
    """A site's sync worker publishes only its own changes and acknowledgements and reads every site's (what it
    reads of a site it has no link with stays sealed: it has no key for it)."""
    writes = [_acl("publishClientSend", topic(site)) for topic in (sync_topic, ack_topic)]
    return writes + _reads(sync_topic("+")) + _reads(ack_topic("+"))


@dataclass(frozen=True)
class ProcessUser:
    """A Pantau process's broker user: its fixed client id (``None``: throwaway ids, see ``why_unbound``) and ACL."""

    username: str
    client_id: str | None
    acls: tuple[dict[str, Any], ...]
    why_unbound: str = ""


# Topics use ``+`` for the site where the process subscribes that way (one deployment serves one site).
PROCESS_USERS: tuple[ProcessUser, ...] = (
    ProcessUser(
        "pantau-consumer",
        None,
        (
            *_reads(ALL_VITALS),
            *_reads(ALL_STATUS),
            _acl("publishClientSend", ALL_COMMANDS),  # resend requests for sequence gaps
        ),
        why_unbound="consumers on the shared subscription each keep a persistent session under a fixed id of their "
        "own (pantau-consumer-1, -2 in compose; the pod name in deploy/k8s), and the broker binds one id per user",
    ),
    ProcessUser(
        "pantau-web",
        None,
        (_acl("publishClientSend", ALL_SIM_CONTROL),),
        why_unbound="health probes and simulator commands connect briefly, several at a time, each with its own id",
    ),
    ProcessUser(
        "pantau-simulator",
        None,
        (*_reads(ALL_SIM_CONTROL), _acl("publishClientSend", ALL_SIM_STATE)),
        why_unbound="its control client has a per-run id and its health probe a throwaway one; each simulated "
        "monitor logs in as itself",
    ),
)


class BrokerAdminError(RuntimeError):
    """The broker could not be reached or refused a command."""


class BrokerAdmin(Protocol):
    """What the device-credential services need from the broker."""

    enabled: bool

    def create_device(self, site: str, device_id: str, password: str) -> None: ...

    def set_device_password(self, device_id: str, password: str) -> None: ...

    def delete_device(self, device_id: str) -> None: ...

    def set_sync_site(self, site: str, password: str) -> None: ...


class NoBrokerAdmin:
    """No provisioning: the embedded demo's broker listens on loopback only and is open."""

    enabled = False

    def create_device(self, site: str, device_id: str, password: str) -> None:
        """Nothing to do."""

    def set_device_password(self, device_id: str, password: str) -> None:
        """Nothing to do."""

    def delete_device(self, device_id: str) -> None:
        """Nothing to do."""

    def set_sync_site(self, site: str, password: str) -> None:
        """Nothing to do."""


class DynsecAdmin:
    """Mosquitto's dynamic-security plugin, administered over MQTT by the admin user of ``address``."""

    enabled = True

    def __init__(self, address: BrokerAddress, timeout: float = TIMEOUT) -> None:
        self.address = address
        self.timeout = timeout

    def execute(self, commands: list[dict[str, Any]], *, tolerate: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Send ``commands`` in one message and return the responses; raise on any error not in ``tolerate``."""
        responses = self._round_trip(commands)
        for response in responses:
            error = response.get("error")
            if error and not any(word in str(error).lower() for word in tolerate):
                raise BrokerAdminError(f"{response.get('command')}: {error}")
        return responses

    def _round_trip(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        subscribed, answered = threading.Event(), threading.Event()
        result: dict[str, Any] = {}
        client = make_client(self.address, f"pantau-admin-{uuid.uuid4().hex[:12]}", persistent=False)
        client.on_subscribe = lambda *args: subscribed.set()

        def on_message(c: Any, userdata: Any, message: Any) -> None:
            result["responses"] = orjson.loads(message.payload).get("responses", [])
            answered.set()

        client.on_message = on_message
        try:
            client.connect(self.address.host, self.address.port)
            client.loop_start()
            client.subscribe(RESPONSE_TOPIC, 1)
            if not subscribed.wait(self.timeout):
                raise BrokerAdminError("the broker did not accept the admin user")
            client.publish(CONTROL_TOPIC, orjson.dumps({"commands": commands}), qos=1)
            if not answered.wait(self.timeout):
                raise BrokerAdminError("the broker did not answer (is the dynamic-security plugin loaded?)")
        except (OSError, ValueError) as exc:
            raise BrokerAdminError(f"broker unreachable: {exc}") from exc
        finally:
            client.disconnect()
            client.loop_stop()
        responses = result["responses"]
        if len(responses) != len(commands):
            raise BrokerAdminError("the broker answered a different number of commands")
        return responses

    # ------------------------------------------------------------------------------------------- monitors

    def create_device(self, site: str, device_id: str, password: str) -> None:
        """Role and client of a new monitor (a role left by an earlier attempt is reused)."""
        role = device_role(device_id)
        self.execute([{"command": "createRole", "rolename": role}], tolerate=("already exists",))
        self.execute(
            [{"command": "addRoleACL", "rolename": role, **acl} for acl in device_acls(site, device_id)],
            tolerate=("already exists",),
        )
        self.execute(
            [
                {
                    "command": "createClient",
                    "username": device_id,
                    "password": password,
                    "clientid": device_id,
                    "textname": f"monitor {device_id}",
                    "roles": [{"rolename": role}],
                }
            ]
        )

    def set_device_password(self, device_id: str, password: str) -> None:
        """A new password; the broker disconnects a monitor still logged in with the old one."""
        self.execute([{"command": "setClientPassword", "username": device_id, "password": password}])

    def delete_device(self, device_id: str) -> None:
        """Client and role gone (a connected monitor is disconnected); already gone is fine."""
        self.execute(
            [
                {"command": "deleteClient", "username": device_id},
                {"command": "deleteRole", "rolename": device_role(device_id)},
            ],
            tolerate=("not found",),
        )

    # --------------------------------------------------------------------------------------- sync sites

    def set_sync_site(self, site: str, password: str) -> None:
        """The broker user of ``site``'s sync worker (created, or given this password), bound to its client id and
        to a role with only its own sync topics to write (idempotent)."""
        user, role = sync_user(site), f"sync:{site}"
        self.execute([{"command": "createRole", "rolename": role}], tolerate=("already exists",))
        self.execute(
            [{"command": "addRoleACL", "rolename": role, **acl} for acl in sync_acls(site)],
            tolerate=("already exists",),
        )
        self.execute(
            [
                {
                    "command": "createClient",
                    "username": user,
                    "password": password,
                    "clientid": user,
                    "textname": f"facility sync {site}",
                    "roles": [{"rolename": role}],
                }
            ],
            tolerate=("already exists",),
        )
        self.execute([{"command": "setClientPassword", "username": user, "password": password}])

    def device_clients(self) -> set[str]:
        """Usernames the broker knows (to show where the database and the broker disagree)."""
        response = self.execute([{"command": "listClients", "verbose": False, "count": -1, "offset": 0}])[0]
        return set(response.get("data", {}).get("clients", []))

    # ---------------------------------------------------------------------------------------- set-up

    def setup(self, passwords: dict[str, str]) -> list[str]:
        """Default deny and the process users of ``passwords``
        (username -> password) with their roles. Idempotent: safe to run at every start. Returns the users set.

        The admin role keeps what ``mosquitto_ctrl dynsec init`` gave it: changing a role disconnects its clients,
        this one included, before the answer."""
        commands: list[dict[str, Any]] = [
            {"command": "setDefaultACLAccess", "acls": [{"acltype": k, "allow": v} for k, v in DEFAULT_ACCESS.items()]},
        ]
        done = []
        for user in PROCESS_USERS:
            password = passwords.get(user.username)
            if not password:
                continue
            commands.append({"command": "createRole", "rolename": user.username})
            commands += [{"command": "addRoleACL", "rolename": user.username, **acl} for acl in user.acls]
            commands.append({"command": "createClient", "username": user.username, "password": password})
            commands.append({"command": "setClientPassword", "username": user.username, "password": password})
            bind = {"clientid": user.client_id} if user.client_id else {}  # without it: any client id
            commands.append({"command": "setClientId", "username": user.username, **bind})
            # Remove, then add: the plugin answers "Internal error" to adding a role the client already has.
            commands.append({"command": "removeClientRole", "username": user.username, "rolename": user.username})
            commands.append({"command": "addClientRole", "username": user.username, "rolename": user.username})
            done.append(user.username)
        self.execute(commands, tolerate=_ALREADY)
        return done


def open_broker_admin(settings: Any, address: BrokerAddress) -> BrokerAdmin:
    """:class:`DynsecAdmin` when an admin user is configured for an external broker, else :class:`NoBrokerAdmin`."""
    if settings.embedded_broker or not settings.mqtt_admin_username:
        return NoBrokerAdmin()
    return DynsecAdmin(
        BrokerAddress(
            host=address.host,
            port=address.port,
            tls=address.tls,
            username=settings.mqtt_admin_username,
            password=settings.mqtt_admin_password,
            ca_file=address.ca_file,
        )
    )
