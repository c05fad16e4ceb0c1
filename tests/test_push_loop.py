"""The whole loop on one machine: pushes sent through the Push API sandbox come back as callbacks at the
reference receiver, in order, naming the right message ids, and only for the messages that asked for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from conformance.fixtures.push import app as push_app
from conformance.fixtures.push_callback import app as receiver_app
from conformance.fixtures.server import RunningServer, serve

PARTNER = ("partner", "partner-Pa55")
CALLBACKS = ("koshelek", "callback-Pa55")
REGISTERED, UNREGISTERED = 79216668899, 79990000000


@pytest.fixture
def loop() -> Iterator[tuple[RunningServer, object, requests.Session]]:
    receiver = receiver_app.create_app(CALLBACKS)
    with serve(receiver) as receiver_server:
        sandbox = push_app.create_app(
            PARTNER,
            callback_url=receiver_server.base_url,
            callback_credentials=CALLBACKS,
            callback_verify=receiver_server.ca_bundle,
            delivery_delay=0.01,
        )
        with serve(sandbox) as sandbox_server:
            session = requests.Session()
            session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace the test CA
            session.verify, session.auth = sandbox_server.ca_bundle, PARTNER
            yield sandbox_server, receiver.extensions["callbacks"], session
        sandbox.extensions["push"].close()


def push(server: RunningServer, session: requests.Session, to: int, notify: bool | None, title: str) -> str:
    body = {
        "pushType": "TRANSACTION",
        "msisdn": to,
        "payload": {"title": title, "message": "Проверка доставки", "deeplink": {"target": "card"}},
    }
    if notify is not None:
        body["qos"] = {"deliveryStatusNotifications": notify}
    response = session.post(server.base_url + "/push/delivery", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["messageId"]


def test_callbacks_arrive_in_order_with_the_right_message_ids(loop) -> None:
    server, log, session = loop
    notified = [push(server, session, REGISTERED, True, f"Сообщение {n}") for n in range(3)]
    silent = [
        push(server, session, REGISTERED, False, "Без уведомлений"),
        push(server, session, REGISTERED, None, "Флаг не задан"),
        push(server, session, UNREGISTERED, True, "Нет пользователя"),
    ]
    assert log.wait_for(2 * len(notified), timeout=10), f"only {len(log.received)} callbacks arrived"
    received = [(c["messageId"], c["state"]) for c in log.received]
    # Each message reports DELIVERED before OPENED, and the messages report in the order they were sent.
    for message_id in notified:
        assert received.index((message_id, "DELIVERED")) < received.index((message_id, "OPENED"))
    assert [m for m, state in received if state == "OPENED"] == notified
    assert [m for m, state in received if state == "DELIVERED"] == notified
    assert not {message_id for message_id, _ in received} & set(silent)
    assert all(c.get("msisdn") == REGISTERED for c in log.received)
    assert log.refused == 0


def test_a_batch_reports_each_recipient_separately(loop) -> None:
    server, log, session = loop
    body = {
        "pushType": "SERVICE",
        "msisdn": [REGISTERED, UNREGISTERED, REGISTERED],
        "subId": "loop",
        "payload": {"title": "Пакет", "message": "Одно сообщение всем", "deeplink": {"target": "card"}},
        "qos": {"deliveryStatusNotifications": True},
    }
    response = session.post(server.base_url + "/push/bulk/single", json=body, timeout=5)
    assert response.status_code == 200, response.text
    enqueued = [m["messageId"] for m in response.json()["messages"] if m["state"] == "ENQUEUED"]
    assert len(enqueued) == 2
    assert log.wait_for(4, timeout=10)
    assert sorted({c["messageId"] for c in log.received}) == sorted(enqueued)
