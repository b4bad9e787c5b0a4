"""A moto S3 endpoint for the tests, and the few bucket operations they check with (botocore, not our signer).

  endpoint.py serve              starts moto on a free loopback port, prints "PORT n", runs until its parent exits
  endpoint.py create-bucket URL BUCKET
  endpoint.py list URL BUCKET PREFIX   prints the keys under PREFIX (ListObjectsV2, every page) as a JSON array
"""
import ctypes
import json
import signal
import socket
import sys
import time

import botocore.session


def client(endpoint):
    return botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=endpoint,
        aws_access_key_id="testing", aws_secret_access_key="testing")


def answer_post_uploads_with_etag():
    """S3 answers a presigned POST upload with the object's ETag (the client checks it against its MD5);
    moto answers without one. This adds it, and changes nothing else."""
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def with_etag(self, request, bucket_name):
        status, headers, body = original(self, request, bucket_name)
        key = self.querystring.get("key", [None])[0]
        if str(status).startswith("2") and key is not None and "ETag" not in headers:
            stored = self.backend.get_object(bucket_name, key)
            if stored is not None:
                headers = dict(headers, ETag=stored.etag)
        return status, headers, body

    S3Response._bucket_response_post = with_etag


def serve():
    # Dies with the test process that started it, however that one ends (a spawner may hand down SIGTERM
    # blocked or ignored: undo both first).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    from moto.server import ThreadedMotoServer

    answer_post_uploads_with_etag()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"PORT {port}", flush=True)
    while True:
        time.sleep(3600)


def main():
    command = sys.argv[1]
    if command == "serve":
        serve()
    elif command == "create-bucket":
        client(sys.argv[2]).create_bucket(Bucket=sys.argv[3])
    elif command == "list":
        keys = []
        for page in client(sys.argv[2]).get_paginator("list_objects_v2").paginate(
                Bucket=sys.argv[3], Prefix=sys.argv[4]):
            keys += [item["Key"] for item in page.get("Contents", [])]
        json.dump(keys, sys.stdout)
    else:
        sys.exit(f"unknown command {command}")


main()
