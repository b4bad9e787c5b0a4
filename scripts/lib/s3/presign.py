"""botocore's presigned POST and GET for the inputs on stdin (JSON), with the clock pinned; prints JSON.

The server's SigV4 signer is compared with this output (Tests/AssetServerTests/S3SignerBotocoreTests.swift):
moto does not check signatures or policies, botocore is the reference.
Input: {"endpoint": url or null, "region", "bucket", "key", "access_key", "secret_key", "session_token" or null,
        "now": "YYYY-MM-DDTHH:MM:SS", "max_size": int, "addressing": "path" or "virtual"}
Output: {"post": {"url", "fields": [[name, value], ...]}, "get": url}
"""
import datetime
import json
import sys

import botocore.auth
import botocore.session
import botocore.signers
from botocore.config import Config

spec = json.load(sys.stdin)
now = datetime.datetime.strptime(spec["now"], "%Y-%m-%dT%H:%M:%S")
botocore.auth.get_current_datetime = lambda *args, **kwargs: now
botocore.signers.get_current_datetime = lambda *args, **kwargs: now

client = botocore.session.get_session().create_client(
    "s3",
    region_name=spec["region"],
    endpoint_url=spec["endpoint"],
    aws_access_key_id=spec["access_key"],
    aws_secret_access_key=spec["secret_key"],
    aws_session_token=spec["session_token"],
    config=Config(signature_version="s3v4", s3={"addressing_style": spec["addressing"]}),
)
post = client.generate_presigned_post(
    spec["bucket"],
    spec["key"],
    Conditions=[["content-length-range", 0, spec["max_size"]], ["starts-with", "$success_action_status", ""]],
    ExpiresIn=3600,
)
get = client.generate_presigned_url(
    "get_object", Params={"Bucket": spec["bucket"], "Key": spec["key"]}, ExpiresIn=3600
)
json.dump({"post": {"url": post["url"], "fields": list(post["fields"].items())}, "get": get}, sys.stdout)
