"""The town's name goes into every mail's From header, where a line break is not allowed: a
name saved with one (a forged form, a value pasted into the environment) must not stop
registration, resets and every notification with a 500."""

from __future__ import annotations

import email
from email import policy

import sqlalchemy as sa

from deliberation.models import OutgoingMail
from deliberation.services import town as service
from tests.accounts.test_flows import register


def _form(**values):
    data = {field: "" for field in service.TEXT_FIELDS}
    data.update(values)
    return data


def test_a_town_name_with_a_line_break_does_not_stop_the_mails(app, client, login_as, db
                                                                ) -> None:
    login_as("admin")
    assert client.post("/admin/town", data=_form(name="きた市\r\n市民協働課")).status_code == 303
    client.post("/auth/logout")
    assert register(client).status_code == 303
    row = db.session.scalar(sa.select(OutgoingMail))
    sender = email.message_from_string(row.message, policy=policy.default)["From"]
    assert sender.addresses[0].display_name.startswith("きた市 市民協働課 ")
