"""The local AWS: moto's server, with one cost fixed for long queues.

moto's ``receive_message`` checks each message's retention by rebuilding the queue's full attribute set, which
counts every message: a receive is O(n²) in queue length, so a few thousand waiting mentions (a whole-sample
replay) slow the local stack to a crawl. Here the check reads the retention period directly (same result, O(1)).
moto's API Gateway import takes OpenAPI 3 with an ``info.description``; ``chalice deploy`` uploads Swagger 2.0
without one: here it is read as OpenAPI 3, so the real ``chalice deploy`` runs against the local AWS
(``tests/e2e/test_deploy.py``).
moto's server answers requests on several threads, and its DynamoDB checks a write's condition and then writes
without a lock: two conditional writes on one item at the same moment could both succeed, which DynamoDB never
allows (two agents would both claim a ticket). Here every item write runs under one lock, as each is atomic in
DynamoDB. The tests' in-process moto takes the same lock (``tests/conftest.py``).
Run as ``python -m tools.local_aws -H 127.0.0.1 -p 4566`` (what ``tools.local_stack`` does).
"""
from __future__ import annotations


def fast_retention_check() -> None:
    from moto.sqs import models

    def is_message_valid_based_on_retention_period(self, queue_name, message) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > models.unix_time()

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def chalice_api_documents() -> None:
    """moto imports OpenAPI 3 only and requires ``info.description``; ``chalice deploy`` uploads Swagger 2.0 without
    a description. The part moto reads (paths, methods, ``x-amazon-apigateway-integration``) is the same in both,
    so a Swagger 2.0 document is read as OpenAPI 3 and a missing description as empty."""
    from moto.apigateway import models

    def as_openapi3(api_doc: dict) -> dict:
        api_doc = dict(api_doc)
        if api_doc.pop("swagger", None) is not None:
            api_doc["openapi"] = "3.0.1"
        api_doc["info"] = {"description": "", **api_doc.get("info", {})}
        return api_doc

    import_rest_api = models.APIGatewayBackend.import_rest_api
    put_rest_api = models.APIGatewayBackend.put_rest_api

    def imported(self, api_doc, fail_on_warnings):
        return import_rest_api(self, as_openapi3(api_doc), fail_on_warnings)

    def put(self, function_id, api_doc, fail_on_warnings, mode="merge"):
        return put_rest_api(self, function_id, as_openapi3(api_doc), fail_on_warnings, mode)

    models.APIGatewayBackend.import_rest_api = imported
    models.APIGatewayBackend.put_rest_api = put


def atomic_dynamodb_writes() -> None:
    """Each item write (and each transaction or batch) checks its condition and writes under one lock."""
    import functools
    import threading

    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    if getattr(backend, "_responder_atomic", False):
        return
    lock = threading.RLock()

    def locked(method):
        @functools.wraps(method)
        def under_lock(self, *args, **kwargs):
            with lock:
                return method(self, *args, **kwargs)
        return under_lock

    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        setattr(backend, name, locked(getattr(backend, name)))
    backend._responder_atomic = True


def partition_queries() -> None:
    """A query of a table (not of an index) reads its partition only, as DynamoDB does: moto reads and sorts every
    item of the table for each query, so the state table's many small partitions (the word index, the reports'
    rows, the rate and the waiting room) made every query as slow as the table is big. Same results, same order."""
    import functools
    import threading

    from moto.dynamodb.models.table import Table

    if getattr(Table, "_responder_partitions", False):
        return
    hint = threading.local()
    every_item, query = Table.all_items, Table.query

    @functools.wraps(every_item)
    def all_items(self):  # type: ignore[no-untyped-def]
        wanted = getattr(hint, "partition", None)
        if wanted is None or wanted[0] is not self:
            return every_item(self)
        bucket = self.items.get(wanted[1])
        if bucket is None:
            return []
        return list(bucket.values()) if self.range_key_attr else [bucket]

    @functools.wraps(query)
    def partition_query(self, hash_key, *args, **kwargs):  # type: ignore[no-untyped-def]
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        hint.partition = (self, hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            hint.partition = None

    Table.all_items, Table.query = all_items, partition_query
    Table._responder_partitions = True


def main() -> None:
    from moto import server

    fast_retention_check()
    chalice_api_documents()
    atomic_dynamodb_writes()
    partition_queries()
    server.main()


if __name__ == "__main__":
    main()
