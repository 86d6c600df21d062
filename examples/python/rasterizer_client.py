"""A client for replay-rasterizer's HTTP API, standard library only (Python 3.9+).

    from rasterizer_client import RasterizerClient

    client = RasterizerClient("http://rasterizer:8080", token=os.environ["RASTERIZER_API_TOKEN"])
    previews = client.problem_previews(team_id=2, session_id="0192c1d8-...", segments=summary["segments"])
    ids = [p["asset_id"] for p in previews if "asset_id" in p]
    client.wait_until_settled(team_id=2, asset_ids=ids)
    urls = client.preview_urls(team_id=2, asset_ids=ids)   # {asset_id: url or None}

Run as a script it does the same for one session and prints one JSON line:

    python3 rasterizer_client.py --base-url URL --team-id 2 --session-id S segments.json

The request and answer shapes are those of openapi.json (GET /v1/openapi.json).
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request


class RasterizerError(Exception):
    """An error answer: `code` is the API's stable error code, `fields` names bad fields."""

    def __init__(self, status, body):
        self.status = status
        self.code = body.get("error", "unknown")
        self.fields = body.get("fields") or {}
        self.request_id = body.get("request_id")
        super().__init__("%s %s: %s" % (status, self.code, body.get("message", "")))

    @property
    def retryable(self):
        """5xx answers (the queue is away, a server-side failure) are worth trying again."""
        return self.status >= 500


class RasterizerClient:
    def __init__(self, base_url, token, timeout_s=30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            raw = err.read().decode("utf-8", "replace")
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"error": "unknown", "message": raw[:200]}
            raise RasterizerError(err.code, body) from None

    def problem_previews(self, team_id, session_id, segments, recording_duration_s=None, **options):
        """One preview per problem segment: [{index, problem_type, asset_id, start_offset_s, end_offset_s, ...} or {index, problem_type, reason}]."""
        body = {"team_id": team_id, "segments": segments}
        if recording_duration_s is not None:
            body["recording_duration_s"] = recording_duration_s
        body.update(options)
        path = "/v1/sessions/%s/problem-previews" % urllib.request.quote(session_id, safe="")
        return self._call("POST", path, body)["previews"]

    def asset(self, team_id, asset_id):
        return self._call("GET", "/v1/assets/%d?team_id=%d" % (asset_id, team_id))

    def preview_urls(self, team_id, asset_ids):
        """{asset_id: signed URL, or None when missing, another team's, not done, failed or expired}."""
        answer = self._call("POST", "/v1/assets/preview-urls", {"team_id": team_id, "asset_ids": list(asset_ids)})
        return {int(k): v for k, v in answer["urls"].items()}

    def wait_until_settled(self, team_id, asset_ids, timeout_s=300.0, every_s=1.0):
        """Polls until every asset is done or failed; returns {asset_id: status}."""
        deadline = time.monotonic() + timeout_s
        pending = set(asset_ids)
        statuses = {}
        while pending:
            for asset_id in sorted(pending):
                status = self.asset(team_id, asset_id)["status"]
                if status in ("done", "failed"):
                    statuses[asset_id] = status
                    pending.discard(asset_id)
            if pending:
                if time.monotonic() > deadline:
                    raise TimeoutError("assets still rendering: %s" % sorted(pending))
                time.sleep(every_s)
        return statuses


def main(argv=None):
    parser = argparse.ArgumentParser(description="Enqueue problem previews of one session and print their URLs once rendered.")
    parser.add_argument("segments", help="JSON file: a list of segments (start_time, end_time, exception, ...)")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--team-id", type=int, required=True)
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--recording-duration-s", type=float)
    parser.add_argument("--width", type=int)
    parser.add_argument("--fps", type=int)
    parser.add_argument("--timeout-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    token = os.environ.get("RASTERIZER_API_TOKEN")
    if not token:
        parser.error("set RASTERIZER_API_TOKEN")
    with open(args.segments, encoding="utf-8") as f:
        segments = json.load(f)

    client = RasterizerClient(args.base_url, token)
    options = {k: v for k, v in (("width", args.width), ("fps", args.fps)) if v is not None}
    try:
        previews = client.problem_previews(args.team_id, args.session_id, segments, args.recording_duration_s, **options)
        ids = sorted({p["asset_id"] for p in previews if "asset_id" in p})
        statuses = client.wait_until_settled(args.team_id, ids, timeout_s=args.timeout_s)
        urls = client.preview_urls(args.team_id, ids)
    except RasterizerError as err:
        print("replay-rasterizer: %s" % err, file=sys.stderr)
        return 2 if not err.retryable else 1
    print(json.dumps({"previews": previews, "statuses": {str(k): v for k, v in statuses.items()}, "urls": {str(k): v for k, v in urls.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
