"""The local AWS: moto's server, with one cost fixed for long queues.

moto's ``receive_message`` checks each message's retention by rebuilding the queue's full attribute set, which
counts every message: a receive is O(n²) in queue length, so a few thousand waiting mentions (a whole-sample
replay) slow the local stack to a crawl. Here the check reads the retention period directly (same result, O(1)).
Run as ``python -m tools.local_aws -H 127.0.0.1 -p 4566`` (what ``tools.local_stack`` does).
"""
from __future__ import annotations


def fast_retention_check() -> None:
    from moto.sqs import models

    def is_message_valid_based_on_retention_period(self, queue_name, message) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > models.unix_time()

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def main() -> None:
    from moto import server

    fast_retention_check()
    server.main()


if __name__ == "__main__":
    main()
