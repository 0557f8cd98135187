"""Patient notifications: reminders, confirmations, cancellations and moves by email and SMS.

Every message first lands in the ``outbox_message`` table (what the secretaries see), then
:func:`app.notifications.service.send_queued` delivers it: email over SMTP, SMS through the
configured :class:`app.notifications.sms.SmsProvider`. No message ever carries health
information: see :mod:`app.notifications.messages`.
"""
