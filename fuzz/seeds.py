#!/usr/bin/env python3
"""Writes the seed corpora (fuzz/corpus/<target>/) from the fixtures in tests/fixtures, each seed
cut to a few KB: the documented samples the fuzzer starts from. Run from anywhere; the seeds are
checked in, so this runs again only when fixtures or targets change."""

import base64
import gzip
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"
# The order of FORMATS in forwarder/src/source/s3/format/mod.rs: the s3_object target's first
# byte chooses the format by its position.
FORMATS = [
    "cloudwatch-firehose", "cloudtrail", "cloudtrail-digest", "config", "config-check",
    "json-lines", "text-lines", "alb", "alb-connection", "nlb", "elb", "cloudfront",
    "cloudfront-realtime", "waf", "s3-access", "vpc-flow-parquet", "vpc-flow", "route53-resolver",
    "network-firewall", "guardduty", "securityhub",
]
# The documented subscription payload (CloudWatch Logs "Subscription filters" page).
LOGS = {
    "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/checkout",
    "logStream": "2026/11/29/[$LATEST]abc", "subscriptionFilters": ["sluice"],
    "logEvents": [
        {"id": "31953106606966983378809025079804211143289615424298221568", "timestamp": 1795946400000,
         "message": "{\"level\":\"info\",\"msg\":\"paid\",\"amount\":12}"},
        {"id": "31953106606966983378809025079804211143289615424298221569", "timestamp": 1795946400001,
         "message": "ERROR java.lang.IllegalStateException: boom\n"},
        {"id": "31953106606966983378809025079804211143289615424298221570", "timestamp": 1795946400002,
         "message": "\tat com.example.Checkout.pay(Checkout.java:42)\n"},
    ],
}
CLOUDTRAIL = {"Records": [{
    "eventVersion": "1.08", "eventTime": "2026-11-29T10:00:00Z", "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
    "userAgent": "aws-cli/2.13.0", "eventID": "3e8a8f1a-1c2b-4d5e-8f90-0a1b2c3d4e5f",
    "userIdentity": {"type": "IAMUser", "accountId": "123456789012", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
    "requestParameters": {"bucketName": "central-logs", "key": "a.txt"},
}]}


def head(data: bytes, limit: int = 2048) -> bytes:
    """At most `limit` bytes, cut after a newline when the data is longer."""
    if len(data) <= limit:
        return data
    cut = data.rfind(b"\n", 0, limit)
    return data[: cut + 1] if cut > 0 else data[:limit]


def fixture(path: str) -> bytes:
    return head((FIXTURES / path).read_bytes())


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def main() -> None:
    payload = json.dumps(LOGS).encode()
    awslogs = base64.b64encode(gz(payload)).decode()
    seeds: dict[str, dict[str, bytes]] = {}
    seeds["subscription_payload"] = {
        "payload.gz": gz(payload),
        "awslogs.b64": awslogs.encode(),
        "control.gz": gz(json.dumps(dict(LOGS, messageType="CONTROL_MESSAGE")).encode()),
    }
    kinesis = json.loads((FIXTURES / "forwarder/kinesis-event.json").read_text())
    for record in kinesis["Records"]:
        record["kinesis"]["data"] = base64.b64encode(gz(payload)).decode()
    on_failure = json.loads((FIXTURES / "forwarder/async-invocation-record.json").read_text())
    on_failure["requestPayload"] = {"awslogs": {"data": awslogs}}
    seeds["lambda_event"] = {
        "awslogs.json": json.dumps({"awslogs": {"data": awslogs}}).encode(),
        "kinesis.json": json.dumps(kinesis).encode(),
        "on-failure.json": json.dumps(on_failure).encode(),
        "sqs.json": fixture("forwarder/sqs-event.json"),
        "s3-notification.json": fixture("forwarder/s3-notification.json"),
        "eventbridge.json": fixture("forwarder/eventbridge-object-created.json"),
    }
    sns = {"Type": "Notification", "Message": (FIXTURES / "forwarder/s3-notification.json").read_text()}
    seeds["s3_notification"] = {
        "s3.json": fixture("forwarder/s3-notification.json"),
        "eventbridge.json": fixture("forwarder/eventbridge-object-created.json"),
        "sns.json": json.dumps(sns).encode(),
        "test-event.json": b'{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"central-logs"}',
    }
    objects = {
        "cloudwatch-firehose": gz(payload) + gz(payload),
        "cloudtrail": gz(json.dumps(CLOUDTRAIL).encode()),
        "config": fixture("access/config-snapshot-docs.json"),
        "json-lines": fixture("network/network-firewall-alert.jsonl"),
        "text-lines": b"2026-11-29T10:00:00Z GET /health 200\nplain line\n",
        "alb": fixture("access/alb-access-docs.log"),
        "alb-connection": fixture("access/alb-connection-docs.log"),
        "nlb": fixture("access/nlb-access-docs.log"),
        "elb": fixture("access/elb-access-docs.log"),
        "cloudfront": fixture("access/cloudfront-standard.log"),
        "cloudfront-realtime": fixture("access/cloudfront-realtime-seven-fields.tsv"),
        "waf": fixture("access/waf-examples.jsonl"),
        "s3-access": fixture("access/s3access-current.log"),
        "vpc-flow": fixture("access/vpcflow-default.log"),
        # The whole file: a Parquet footer is at its end.
        "vpc-flow-parquet": (FIXTURES / "access/vpcflow-default.parquet").read_bytes(),
        "route53-resolver": fixture("network/route53-resolver-docs.jsonl"),
        "network-firewall": fixture("network/network-firewall-flow.jsonl"),
        "guardduty": fixture("findings/guardduty-export.jsonl"),
        "securityhub": fixture("findings/securityhub-events.jsonl"),
    }
    seeds["s3_object"] = {f"{name}": bytes([FORMATS.index(name)]) + body for name, body in objects.items()}
    seeds["multiline"] = {
        name: fixture(f"forwarder/multiline/{name}") for name in ["java.txt", "python.txt", "node.txt"]
    }
    seeds["redact"] = {
        "secrets.txt": b"password=hunter2 Authorization: Basic dXNlcjpwYXNz token AKIAIOSFODNN7EXAMPLE\n"
        b"https://user:pa55w0rd@example.com/ {\"api_key\":\"abc123\",\"nested\":{\"secret\":[1,2]}}\n"
        b"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\n",
        "key.txt": b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
        b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "jwt.txt": b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl ghp_0123456789abcdefABCDEF0123456789abcd\n",
    }
    # Settings: one value a line, in the order the settings are read (an empty line: unset).
    seeds["forwarder_config"] = {
        "empty": b"",
        "values": b"https://search.example.com\n\nlogs\ntrue\n5\n1000\n*.log=text-lines\n\nsluice\n",
    }
    seeds["subscriber_config"] = {
        "empty": b"",
        "values": b"arn:aws:lambda:us-east-1:123456789012:function:fwd\n\n/aws/*\n/aws/lambda/x-*\n30\n\n/aws/lambda/app",
    }
    seeds["subscriber_event"] = {
        name: fixture(f"subscriber/{name}")
        for name in ["create-log-group.json", "create-log-group-failed.json", "scheduled-event.json", "tag-resource.json"]
    }
    seeds["subscriber_event"]["direct.json"] = b'{"action":"sweep","dry_run":true}'
    for target, files in seeds.items():
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
