#!/usr/bin/env python3
"""Generate realistic CloudWatch Logs subscription payloads for benchmarks and tests.

Writes N Lambda invocation events, one per line (NDJSON), each of the form
{"awslogs": {"data": base64(gzip(json(LogsData)))}} as CloudWatch Logs sends
them to a subscribed Lambda. The mix of messages follows what serverless
accounts emit: Lambda platform lines (START/END/REPORT), tab-separated
runtime lines with JSON bodies, pure JSON structured logs, API Gateway access
logs, plain text, multi-line stack traces and an occasional timeout line.

Deterministic for a given --seed. Sluice keeps its own copy so that the repository stands alone;
it is the same mix as the team's shared benchmark generator, so figures stay comparable.
"""
import argparse, base64, gzip, json, random, sys, uuid

LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
PATHS = ["/v1/users", "/v1/orders", "/v1/orders/{id}", "/health", "/v1/payments"]


def rid(r):
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def message(r, ts_ms, req):
    iso = f"2026-11-22T{(ts_ms // 3600000) % 24:02d}:{(ts_ms // 60000) % 60:02d}:{(ts_ms // 1000) % 60:02d}.{ts_ms % 1000:03d}Z"
    k = r.random()
    if k < 0.08:
        return f"START RequestId: {req} Version: $LATEST\n"
    if k < 0.16:
        return f"END RequestId: {req}\n"
    if k < 0.24:
        d = r.uniform(1, 900)
        return (f"REPORT RequestId: {req}\tDuration: {d:.2f} ms\tBilled Duration: {int(d)+1} ms\t"
                f"Memory Size: 128 MB\tMax Memory Used: {r.randint(20,120)} MB\t\n")
    if k < 0.50:
        body = {"title": "order processed", "level": r.choice(LEVELS), "details": {
            "accountId": f"acc-{r.randint(1, 9999)}", "orderId": rid(r), "amount": round(r.uniform(1, 500), 2),
            "items": r.randint(1, 9), "authorization": "Bearer " + "x" * 24}}
        return f"{iso}\t{req}\t{body['level']}\t{json.dumps(body)}\n"
    if k < 0.70:
        body = {"timestamp": iso, "level": r.choice(LEVELS), "message": "request handled",
                "requestId": req, "service": "checkout", "latencyMs": r.randint(1, 3000),
                "user": {"id": r.randint(1, 10**6), "email": f"user{r.randint(1,999)}@example.com"}}
        return json.dumps(body)
    if k < 0.85:
        body = {"requestId": req, "ip": f"10.{r.randint(0,255)}.{r.randint(0,255)}.{r.randint(0,255)}",
                "requestTime": iso, "httpMethod": r.choice(["GET", "POST", "PUT"]),
                "resourcePath": r.choice(PATHS), "status": r.choice([200, 200, 200, 201, 404, 500]),
                "protocol": "HTTP/1.1", "responseLength": r.randint(2, 20000)}
        return json.dumps(body)
    if k < 0.95:
        return f"{iso}\t{req}\tINFO\tcache miss for key user:{r.randint(1, 10**6)} after {r.randint(1, 90)} ms\n"
    if k < 0.995:
        return (f"{iso}\t{req}\tERROR\tInvoke Error \t{{\"errorType\":\"TypeError\",\"errorMessage\":\"Cannot read properties of undefined (reading 'id')\","
                f"\"stack\":[\"TypeError: Cannot read properties of undefined (reading 'id')\",\"    at handler (/var/task/index.js:42:17)\",\"    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)\"]}}\n")
    return f"{iso} {req} Task timed out after 30.03 seconds\n"


def payload(r, i, events_per_batch, base_ms):
    group = r.choice(["/aws/lambda/checkout-api", "/aws/lambda/orders-worker", "API-Gateway-Execution-Logs_abc123/prod",
                      "/aws/lambda/payments", "/ecs/billing-service"])
    events = []
    ts = base_ms + i * 1000
    req = rid(r)
    for j in range(events_per_batch):
        if r.random() < 0.1:
            req = rid(r)
        ts += r.randint(0, 5)
        eid = str(r.getrandbits(180)).rjust(56, "0")[:56]
        events.append({"id": eid, "timestamp": ts, "message": message(r, ts, req)})
    data = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
            "logStream": f"2026/11/22/[$LATEST]{uuid.UUID(int=r.getrandbits(128)).hex}",
            "subscriptionFilters": ["log-shipper"], "logEvents": events}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw, 6)).decode()}}, len(raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--events", type=int, default=500, help="log events per batch")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--control", action="store_true", help="start with one CONTROL_MESSAGE batch")
    a = ap.parse_args()
    r = random.Random(a.seed)
    base_ms = 1795305600000  # 2026-11-22T00:00:00Z
    total_raw = total_events = 0
    out = sys.stdout
    if a.control:
        ctl = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": base_ms,
               "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}
        out.write(json.dumps({"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(ctl).encode())).decode()}}) + "\n")
    for i in range(a.batches):
        p, n = payload(r, i, a.events, base_ms)
        total_raw += n
        total_events += a.events
        out.write(json.dumps(p) + "\n")
    print(f"batches={a.batches} events={total_events} uncompressed_bytes={total_raw}", file=sys.stderr)


if __name__ == "__main__":
    main()
