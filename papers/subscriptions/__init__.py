"""E-mail subscriptions to topics and tags: double opt-in, daily and weekly digest mails.

- `services`: subscribe, confirm and unsubscribe (models only).
- `mails`: which mails go to whom (queueing) and what they say (building).
- `delivery`: sending queued mails over SMTP, once each, at the configured rate, with bounces.
- `tasks`: the Celery tasks, and the receiver that mails a newly published digest.
- `forms`, `views`, `urls`: the subscribe, confirm, manage and unsubscribe pages.

Imports run one way: views -> tasks -> delivery -> mails -> services -> `papers.models`. Nothing
here imports `papers.public` or `papers.admin`; the admin may use `services` and `tasks`, and the
models never import this package.
"""
