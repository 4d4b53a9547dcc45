"""Calls GetCallerIdentity with boto3 for SECONDS seconds, every half second,
through one client, and prints how many calls it made. Run by
tests/endpoint.rs as the command of `mfa exec --server`: botocore finds the
container endpoint in its default chain, and refreshes credentials that
expire within 15 minutes before each call."""

import sys
import time

import boto3

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 13.0
client = boto3.client("sts")
end = time.time() + seconds
calls = 0
while time.time() < end:
    identity = client.get_caller_identity()
    assert identity["Arn"], identity
    calls += 1
    time.sleep(0.5)
print(calls)
