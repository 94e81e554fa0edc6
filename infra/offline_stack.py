#!/usr/bin/env python3
"""boto3 helpers of infra/offline-deploy (run with the sam venv's Python, which has boto3).

    offline_stack.py bucket NAME                    create a bucket (idempotent)
    offline_stack.py upload DIR BUCKET               upload every file under DIR (content types kept)
    offline_stack.py describe STACK OUT.json K=V...  write the stack's outputs (+ K=V extras) as JSON,
                                                     with the schedule (IngestScheduleName) as the
                                                     emulator's Scheduler API reports it
    offline_stack.py output STACK KEY                print one output of the stack

Everything talks to AWS_ENDPOINT_URL (the emulator); credentials and region come from the
environment as usual.
"""

import json
import mimetypes
import os
import sys
from pathlib import Path

import boto3
from botocore.exceptions import ClientError


def s3():
    return boto3.client("s3", config=boto3.session.Config(s3={"addressing_style": "path"}))


def bucket(name):
    try:
        s3().create_bucket(Bucket=name)
        print(f"bucket {name} created")
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
        print(f"bucket {name} exists")


def upload(folder, name):
    client = s3()
    root = Path(folder)
    count = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        client.put_object(Bucket=name, Key=key, Body=path.read_bytes(), ContentType=ctype)
        count += 1
    print(f"uploaded {count} files from {folder} to {name}")


def describe(stack, out, extras):
    cfn = boto3.client("cloudformation")
    desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
    doc = {"stack_name": stack, "status": desc["StackStatus"], "outputs": outputs}
    if outputs.get("IngestScheduleName"):
        sched = boto3.client("scheduler").get_schedule(Name=outputs["IngestScheduleName"])
        doc["schedule"] = {k: sched[k] for k in ("Name", "State", "ScheduleExpression", "Target") if k in sched}
    for kv in extras:
        k, _, v = kv.partition("=")
        doc[k] = v
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, out)
    print(f"{len(outputs)} outputs of {stack} ({desc['StackStatus']}) in {out}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "bucket":
        bucket(argv[1])
    elif len(argv) >= 3 and argv[0] == "upload":
        upload(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "output":
        desc = boto3.client("cloudformation").describe_stacks(StackName=argv[1])["Stacks"][0]
        print({o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}[argv[2]])
    elif len(argv) >= 3 and argv[0] == "describe":
        describe(argv[1], argv[2], argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
