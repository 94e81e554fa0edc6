#!/usr/bin/env python3
"""Create the AWS resources ExoMaps needs that are not deployed by a SAM template in this setup.

Runs as a LocalStack init hook (LocalStack runs *.py in /etc/localstack/init/ready.d with its own
Python, which has boto3), and by hand against any emulator:

    localstack/emulator bootstrap            # against the running ministack (target/emulator)
    AWS_ENDPOINT_URL=http://127.0.0.1:4566 python3 localstack/init/ready.d/bootstrap.py

Creates, idempotently (existing resources are left as they are, secrets are never overwritten):
  * SQS: exomaps-pipeline-{ingest,canonicalise,transform,infer,publish}, each with a DLQ
    `<name>-dlq` and a redrive policy (maxReceiveCount 5; visibility timeout 6 x the phase
    function timeout) — the values infra/template.yaml declares; keep them in step.
  * SQS FIFO: exomaps-sim-tick.fifo (simulation tick batches) with its DLQ
    exomaps-sim-tick-dlq.fifo (maxReceiveCount 5, visibility 6 x the 30 s tick function timeout).
  * Secrets Manager: `exomaps/db` (RDS-style JSON: engine, host, port, dbname, username,
    password, from DATABASE_URL or EXOMAPS_DB_*), `exomaps/jwt` (a key set with one random signing
    key generated here, never from source: {"current": {"kid", "secret"}, "previous": []}).
  * S3: the SPA bucket `exomaps-spa`.
Prints one line per resource; exits non-zero if any call fails.
"""

import base64
import json
import os
import secrets
import sys
from urllib.parse import unquote, urlparse

import boto3
from botocore.exceptions import ClientError

PHASES = ("ingest", "canonicalise", "transform", "infer", "publish")
QUEUE_PREFIX = "exomaps-pipeline-"
MAX_RECEIVE_COUNT = 5
PHASE_TIMEOUT_S = int(os.environ.get("EXOMAPS_PHASE_TIMEOUT_S", "300"))
DLQ_RETENTION_S = 14 * 24 * 3600
DB_SECRET = "exomaps/db"
JWT_SECRET = "exomaps/jwt"
SPA_BUCKET = os.environ.get("EXOMAPS_SPA_BUCKET", "exomaps-spa")

REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
# Inside the LocalStack container the gateway is localhost:4566.
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL") or "http://localhost:4566"


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


def queues(sqs):
    for phase in PHASES:
        name = QUEUE_PREFIX + phase
        dlq_url = sqs.create_queue(
            QueueName=name + "-dlq", Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_S)}
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
        attrs = {"RedrivePolicy": redrive, "VisibilityTimeout": str(6 * PHASE_TIMEOUT_S)}
        try:
            url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        except ClientError as e:
            # An existing queue with other attributes: bring it in line.
            if e.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs)
        print(f"queue   {name} (dlq {name}-dlq, maxReceiveCount {MAX_RECEIVE_COUNT}) {url}")
    sim_tick_queue(sqs)


SIM_TICK_QUEUE = "exomaps-sim-tick.fifo"
SIM_TICK_DLQ = "exomaps-sim-tick-dlq.fifo"
SIM_TICK_TIMEOUT_S = 30


def sim_tick_queue(sqs):
    fifo = {"FifoQueue": "true"}
    dlq_url = sqs.create_queue(
        QueueName=SIM_TICK_DLQ, Attributes={**fifo, "MessageRetentionPeriod": str(DLQ_RETENTION_S)}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
    attrs = {"RedrivePolicy": redrive, "VisibilityTimeout": str(6 * SIM_TICK_TIMEOUT_S)}
    try:
        url = sqs.create_queue(QueueName=SIM_TICK_QUEUE, Attributes={**fifo, **attrs})["QueueUrl"]
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=SIM_TICK_QUEUE)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs)
    print(f"queue   {SIM_TICK_QUEUE} (FIFO, dlq {SIM_TICK_DLQ}, maxReceiveCount {MAX_RECEIVE_COUNT}) {url}")


def db_secret_value():
    url = os.environ.get("DATABASE_URL", "")
    if url:
        u = urlparse(url)
        return {
            "engine": "postgres",
            "host": u.hostname or "localhost",
            "port": u.port or 5432,
            "dbname": (u.path or "/").lstrip("/") or "postgres",
            "username": unquote(u.username or "postgres"),
            "password": unquote(u.password or ""),
        }
    return {
        "engine": "postgres",
        "host": os.environ.get("EXOMAPS_DB_HOST", "localhost"),
        "port": int(os.environ.get("EXOMAPS_DB_PORT", "5432")),
        "dbname": os.environ.get("EXOMAPS_DB_NAME", "exomaps"),
        "username": os.environ.get("EXOMAPS_DB_USER", "exomaps"),
        "password": os.environ.get("EXOMAPS_DB_PASSWORD", ""),
    }


def ensure_secret(sm, name, value, what):
    try:
        arn = sm.create_secret(Name=name, SecretString=json.dumps(value), Description=what)["ARN"]
        print(f"secret  {name} created {arn}")
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceExistsException":
            raise
        print(f"secret  {name} exists (left as it is)")


def bucket(s3):
    try:
        s3.head_bucket(Bucket=SPA_BUCKET)
        print(f"bucket  {SPA_BUCKET} exists")
        return
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
    try:
        if REGION == "us-east-1":
            s3.create_bucket(Bucket=SPA_BUCKET)
        else:
            s3.create_bucket(Bucket=SPA_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        print(f"bucket  {SPA_BUCKET} created")
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
        print(f"bucket  {SPA_BUCKET} exists")


def main():
    print(f"bootstrap: {ENDPOINT} ({REGION})")
    queues(client("sqs"))
    sm = client("secretsmanager")
    ensure_secret(sm, DB_SECRET, db_secret_value(), "ExoMaps database connection (local)")
    # The key set shape the functions read (exomaps_api::secrets::KeySet::from_json).
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    ensure_secret(
        sm, JWT_SECRET, {"current": {"kid": "local-1", "secret": key}, "previous": []}, "ExoMaps JWT signing keys (local)"
    )
    bucket(client("s3"))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ClientError as e:
        print(f"bootstrap failed: {e}", file=sys.stderr)
        sys.exit(1)
