"""The queue's use cases, on one service: issuing, calling, devices and reads.

Each group lives in its own module (`issuing`, `calling`, `devices`, `reads`) over the shared
`core`; ticket shapes per audience are in `views`, the computed state in `state`.
"""

from __future__ import annotations

from collections.abc import Sequence

from queue_server.domain.codes import RetiredKey
from queue_server.domain.estimate import WaitEstimator
from queue_server.domain.forecast import monte_carlo_estimate
from queue_server.service.calling import Calling
from queue_server.service.devices import Devices
from queue_server.service.issuing import Issuing
from queue_server.service.notifying import Notifying
from queue_server.service.ports import (
    Clock,
    OfficeParser,
    RequestRenderer,
    SlipPrinter,
    StoreFactory,
)


class QueueService(Issuing, Calling, Devices, Notifying):
    """Issue, call and move tickets; compute the public status."""

    def __init__(
        self,
        stores: StoreFactory,
        clock: Clock,
        parse_office: OfficeParser,
        public_base_url: str,
        estimator: WaitEstimator = monte_carlo_estimate,
        slip_printer: SlipPrinter | None = None,
        code_secret: bytes | None = None,
        retired_code_keys: Sequence[RetiredKey] = (),
        renderer: RequestRenderer | None = None,
        preapplication_days: int = 7,
        tick_seconds: float = 30.0,
    ) -> None:
        super().__init__(stores, clock, parse_office, public_base_url, estimator, tick_seconds)
        self._code_secret = code_secret
        self._retired_code_keys = tuple(retired_code_keys)
        self._renderer = renderer
        self._preapplication_days = preapplication_days
        self._slip_printer = slip_printer
