"""Outgoing e-mail: composing messages (``compose``) and handing them to a mail server or a
folder (``transport``). The outbox that queues them is ``deliberation.services.mail``."""
