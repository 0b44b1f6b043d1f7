"""The reference tablet client: an offline SQLite store and the sync protocol, stdlib only.

`TabletClient` is the tablet; a `Transport` carries its requests (`UrllibTransport` over the
network, `flask_transport.FlaskTransport` in process, `FaultyTransport` to break things on
purpose); `SupervisorSession` does what a supervisor does for the drill and the tests.
"""

from mobile_contract.client.api import (
    ApiError,
    ApiSession,
    DeviceRevoked,
    RetriesExhausted,
    RetryPolicy,
)
from mobile_contract.client.supervisor import SupervisorSession
from mobile_contract.client.tablet import (
    ClientError,
    ProtocolError,
    PullResult,
    PushResult,
    Queued,
    SyncResult,
    TabletClient,
    form_sha256,
    scope_hash,
)
from mobile_contract.client.transport import (
    FaultyTransport,
    Response,
    Transport,
    TransportError,
    UrllibTransport,
)

__all__ = [
    "ApiError",
    "ApiSession",
    "ClientError",
    "DeviceRevoked",
    "FaultyTransport",
    "ProtocolError",
    "PullResult",
    "PushResult",
    "Queued",
    "Response",
    "RetriesExhausted",
    "RetryPolicy",
    "SupervisorSession",
    "SyncResult",
    "TabletClient",
    "Transport",
    "TransportError",
    "UrllibTransport",
    "form_sha256",
    "scope_hash",
]
