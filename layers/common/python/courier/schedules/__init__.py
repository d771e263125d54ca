"""Schedules: a tenant's cron that enqueues an ordinary job at each firing.

QStash keeps the clock (a QStash schedule per Courier schedule, `CRON_TZ=` for time zones)
and delivers each firing, signed, to the jobs API's schedule hook; the hook creates one job
per firing (the firing's QStash message id is the job's idempotency key, so a redelivered
firing finds its job instead of making a second). The schedule itself lives in DynamoDB.
"""
